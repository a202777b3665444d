// BYTES bounds per request (MAX_BYTES_ELEMENTS, MAX_BYTES_LENGTH), checked
// before any element is decoded, at, just under and just over each limit,
// for raw and typed contents; and the read limit they imply.
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { encodeRaw } from "../../../common/oip/index.js";
import { ModelInferRequestSchema } from "../../../gen/inference/grpc_service_pb.js";
import { parseModelConfig } from "../../../gpu-worker/model/config.js";
import { MESSAGE_OVERHEAD_BYTES, requestByteLimit, type BytesLimits } from "../../../gpu-worker/model/limits.js";
import { validateInferRequest } from "../../../gpu-worker/model/validate.js";

// Two BYTES inputs, so the limits are seen to sum over inputs.
const config = parseModelConfig(
  {
    max_batch_size: 4,
    input: [
      { name: "a", datatype: "BYTES", dims: [-1] },
      { name: "b", datatype: "BYTES", dims: [-1] },
    ],
    output: [{ name: "y", datatype: "BYTES", dims: [-1] }],
  },
  "m/config.json",
  "m",
);

const LIMITS: BytesLimits = { maxBytesElements: 10, maxBytesLength: 100 };
const item = (length: number, fill = 0x61) => new Uint8Array(length).fill(fill);
/** `n` elements sharing `bytes` content bytes as evenly as possible. */
const items = (n: number, bytes: number) => Array.from({ length: n }, (_, i) => item(Math.floor(bytes / n) + (i < bytes % n ? 1 : 0)));
const shape = (n: number) => [1n, BigInt(n)];

/** A request split over both inputs: a gets `na` elements with `ba` bytes, b the rest. */
function request(mode: "raw" | "typed", [na, ba]: [number, number], [nb, bb]: [number, number]) {
  const [ia, ib] = [items(na, ba), items(nb, bb)];
  return create(ModelInferRequestSchema, {
    inputs: [
      { name: "a", datatype: "BYTES", shape: shape(na), ...(mode === "typed" ? { contents: { bytesContents: ia } } : {}) },
      { name: "b", datatype: "BYTES", shape: shape(nb), ...(mode === "typed" ? { contents: { bytesContents: ib } } : {}) },
    ],
    rawInputContents: mode === "raw" ? [encodeRaw(ia), encodeRaw(ib)] : [],
  });
}

function refusal(run: () => unknown): ConnectError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConnectError);
    return error as ConnectError;
  }
  throw new Error("request was accepted");
}

describe.each(["raw", "typed"] as const)("BYTES limits, %s contents (summed over inputs)", (mode) => {
  const validate = (a: [number, number], b: [number, number]) =>
    validateInferRequest(request(mode, a, b), config, Number.MAX_SAFE_INTEGER, LIMITS);

  it("accepts just under and exactly at MAX_BYTES_ELEMENTS", () => {
    expect(validate([4, 4], [5, 5]).inputs.map((t) => t.values.length)).toEqual([4, 5]);
    expect(validate([5, 5], [5, 5]).inputs.map((t) => t.values.length)).toEqual([5, 5]);
  });

  it("refuses one element over MAX_BYTES_ELEMENTS with resource_exhausted naming the variable", () => {
    const error = refusal(() => validate([5, 5], [6, 6]));
    expect(error.code).toBe(Code.ResourceExhausted);
    expect(error.rawMessage).toBe(
      'input "b": the request\'s BYTES inputs hold more than 10 elements in total (MAX_BYTES_ELEMENTS); split it into smaller requests',
    );
  });

  it("accepts just under and exactly at MAX_BYTES_LENGTH", () => {
    expect(validate([2, 49], [2, 50]).inputs.map((t) => t.values.length)).toEqual([2, 2]);
    const at = validate([2, 50], [2, 50]);
    expect(at.inputs.flatMap((t) => (t.values as Uint8Array[]).map((v) => v.byteLength))).toEqual([25, 25, 25, 25]);
  });

  it("refuses one byte over MAX_BYTES_LENGTH with resource_exhausted naming the variable", () => {
    const error = refusal(() => validate([2, 50], [2, 51]));
    expect(error.code).toBe(Code.ResourceExhausted);
    expect(error.rawMessage).toBe(
      'input "b": the request\'s BYTES elements hold more than 100 bytes in total (MAX_BYTES_LENGTH); split it into smaller requests',
    );
  });

  it("refuses 200,000 empty strings from the shape alone, without decoding them", () => {
    const n = 200_000;
    const req = request(mode, [1, 1], [1, 1]);
    req.inputs[1]!.shape = shape(n);
    if (mode === "raw") req.rawInputContents[1] = new Uint8Array(4 * n);
    else req.inputs[1]!.contents!.bytesContents = Array.from({ length: n }, () => new Uint8Array(0));
    const error = refusal(() => validateInferRequest(req, config, Number.MAX_SAFE_INTEGER, LIMITS));
    expect(error.code).toBe(Code.ResourceExhausted);
    expect(error.rawMessage).toMatch(/MAX_BYTES_ELEMENTS/);
  });
});

describe("BYTES limits leave other checks to the decoder", () => {
  it("a raw entry whose framing is broken is still an invalid_argument about framing", () => {
    const req = request("raw", [1, 1], [1, 1]);
    req.rawInputContents[0] = new Uint8Array([200, 0, 0, 0, 1]);
    const error = refusal(() => validateInferRequest(req, config, Number.MAX_SAFE_INTEGER, LIMITS));
    expect(error.code).toBe(Code.InvalidArgument);
    expect(error.rawMessage).toBe('input "a": BYTES raw contents end inside an element');
  });

  it("decoded raw elements do not keep the request's buffer alive", () => {
    const req = request("raw", [2, 4], [1, 1]);
    const [a] = validateInferRequest(req, config, Number.MAX_SAFE_INTEGER, LIMITS).inputs;
    const values = a!.values as Uint8Array[];
    expect(values[0]!.buffer).not.toBe(req.rawInputContents[0]!.buffer);
    // One copy shared by the elements, not one per element.
    expect(values[1]!.buffer).toBe(values[0]!.buffer);
  });
});

describe("requestByteLimit with BYTES inputs", () => {
  const cap = 64 * 1024 * 1024;
  const mixed = parseModelConfig(
    {
      max_batch_size: 2,
      input: [
        { name: "text", datatype: "BYTES", dims: [-1] },
        { name: "x", datatype: "FP32", dims: [3] },
      ],
      output: [{ name: "y", datatype: "FP32", dims: [1] }],
    },
    "m/config.json",
    "m",
  );

  it("bounds the read limit by MAX_BYTES_LENGTH and MAX_BYTES_ELEMENTS when every other input is fixed", () => {
    // Content, up to 6 framing bytes per element, 2 rows of 3 FP32, overhead.
    expect(requestByteLimit([mixed], cap, LIMITS)).toBe(100 + 6 * 10 + 2 * 3 * 4 + MESSAGE_OVERHEAD_BYTES);
  });

  it("uses the cap without BYTES limits, or when another input has variable dims", () => {
    expect(requestByteLimit([mixed], cap)).toBe(cap);
    expect(requestByteLimit([config], cap, LIMITS)).toBe(100 + 6 * 10 + MESSAGE_OVERHEAD_BYTES);
    const variable = parseModelConfig(
      { max_batch_size: 2, input: [{ name: "x", datatype: "FP32", dims: [-1] }], output: [{ name: "y", datatype: "FP32", dims: [1] }] },
      "m/config.json",
      "m",
    );
    expect(requestByteLimit([variable, mixed], cap, LIMITS)).toBe(cap);
  });
});

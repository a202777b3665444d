import { create } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { encodeRaw } from "../../../common/oip/index.js";
import { ModelInferRequestSchema } from "../../../gen/inference/grpc_service_pb.js";
import { GatewayError } from "../../../edge/errors.js";
import { createRequestContext, detachedScope } from "../../../edge/pipeline/context.js";
import { validateInferRequest } from "../../../edge/pipeline/validate.js";

const request = (init: object) => create(ModelInferRequestSchema, { modelName: "m", ...init });
const LIMITS = { maxTensorElements: 100, maxBytesElements: 100, maxBytesLength: 1000 };
const check = (init: object, max = 100, limits: Partial<typeof LIMITS> = {}) => {
  try { validateInferRequest(request(init), { ...LIMITS, maxTensorElements: max, ...limits }); } catch (e) { return e as GatewayError; }
  return undefined;
};

describe("validateInferRequest (every protocol)", () => {
  it("accepts raw contents, typed contents and BYTES with matching sizes", () => {
    expect(check({ inputs: [{ name: "a", datatype: "FP32", shape: [2n] }], rawInputContents: [new Uint8Array(8)] })).toBeUndefined();
    expect(check({ inputs: [{ name: "a", datatype: "INT32", shape: [2n], contents: { intContents: [1, 2] } }] })).toBeUndefined();
    expect(check({ inputs: [{ name: "s", datatype: "BYTES", shape: [1n] }], rawInputContents: [encodeRaw([new Uint8Array(3)])] })).toBeUndefined();
  });

  it.each<[string, object, RegExp]>([
    ["no model name", { modelName: "" }, /model_name is required/],
    ["no inputs", { inputs: [] }, /no inputs/],
    ["unknown datatype", { inputs: [{ name: "a", datatype: "F32", shape: [1n] }], rawInputContents: [new Uint8Array(4)] }, /input "a": unknown datatype "F32"/],
    ["negative dim", { inputs: [{ name: "a", datatype: "FP32", shape: [-1n] }], rawInputContents: [new Uint8Array(4)] }, /input "a": shape \[-1\]: dimension -1/],
    ["raw size mismatch", { inputs: [{ name: "a", datatype: "FP32", shape: [2n] }], rawInputContents: [new Uint8Array(4)] }, /input "a": raw contents hold 4 bytes but FP32 shape \[2\] needs 8/],
    ["raw count mismatch", { inputs: [{ name: "a", datatype: "FP32", shape: [1n] }, { name: "b", datatype: "FP32", shape: [1n] }], rawInputContents: [new Uint8Array(4)] }, /raw_input_contents has 1 entries but there are 2 inputs/],
    ["typed count mismatch", { inputs: [{ name: "a", datatype: "INT32", shape: [3n], contents: { intContents: [1] } }] }, /input "a": contents hold 1 elements but shape \[3\] needs 3/],
    ["FP16 typed", { inputs: [{ name: "h", datatype: "FP16", shape: [1n] }] }, /FP16 tensors must be sent as raw_input_contents/],
    ["duplicate input", { inputs: [{ name: "a", datatype: "FP32", shape: [1n] }, { name: "a", datatype: "FP32", shape: [1n] }], rawInputContents: [new Uint8Array(4), new Uint8Array(4)] }, /input "a" appears twice/],
    ["bad BYTES", { inputs: [{ name: "s", datatype: "BYTES", shape: [2n] }], rawInputContents: [encodeRaw([new Uint8Array(1)])] }, /input "s": BYTES raw contents hold 1 elements but shape needs 2/],
    ["raw contents beside an empty contents {} (the worker refuses it too)", { inputs: [{ name: "a", datatype: "FP32", shape: [1n], contents: {} }], rawInputContents: [new Uint8Array(4)] }, /input "a" has both contents and raw_input_contents/],
    ["duplicate output", { inputs: [{ name: "a", datatype: "FP32", shape: [1n] }], rawInputContents: [new Uint8Array(4)], outputs: [{ name: "y" }, { name: "y" }] }, /output "y" is requested twice/],
  ])("rejects %s with invalid_argument", (_name, init, message) => {
    const error = check(init);
    expect(error).toBeInstanceOf(GatewayError);
    expect(error!.code).toBe(Code.InvalidArgument);
    expect(error!.message).toMatch(message);
  });

  it("limits tensor elements summed over inputs: resource_exhausted with HTTP 413", () => {
    const init = { inputs: [{ name: "a", datatype: "UINT8", shape: [60n] }, { name: "b", datatype: "UINT8", shape: [60n] }], rawInputContents: [new Uint8Array(60), new Uint8Array(60)] };
    expect(check(init, 120)).toBeUndefined();
    const error = check(init, 100)!;
    expect([error.code, error.httpStatus]).toEqual([Code.ResourceExhausted, 413]);
    expect(error.message).toMatch(/more than 100 elements in total \(MAX_TENSOR_ELEMENTS\)/);
    // Overflowing shapes fail the same way instead of wrapping around.
    expect(check({ inputs: [{ name: "a", datatype: "UINT8", shape: [2n ** 40n, 2n ** 40n] }], rawInputContents: [new Uint8Array(0)] })!.code).toBe(Code.ResourceExhausted);
  });
});

describe("BYTES budgets (MAX_BYTES_ELEMENTS, MAX_BYTES_LENGTH), summed over inputs", () => {
  const strings = (n: number, size: number) => encodeRaw(Array.from({ length: n }, () => new Uint8Array(size)));
  const raw = (a: number, b: number, size = 0) => ({
    inputs: [{ name: "a", datatype: "BYTES", shape: [BigInt(a)] }, { name: "b", datatype: "BYTES", shape: [BigInt(b)] }],
    rawInputContents: [strings(a, size), strings(b, size)],
  });
  const typed = (n: number, size: number) => ({
    inputs: [{ name: "t", datatype: "BYTES", shape: [BigInt(n)], contents: { bytesContents: Array.from({ length: n }, () => new Uint8Array(size)) } }],
  });
  const tooLarge = (error: GatewayError | undefined, variable: string) => {
    expect(error).toBeInstanceOf(GatewayError);
    expect([error!.code, error!.httpStatus]).toEqual([Code.ResourceExhausted, 413]);
    expect(error!.message).toContain(`(${variable}); split it into smaller requests`);
  };

  it("elements: at and under the limit pass, one over is refused before any element is read", () => {
    expect(check(raw(5, 5), 100, { maxBytesElements: 10 })).toBeUndefined();
    expect(check(raw(5, 4), 100, { maxBytesElements: 10 })).toBeUndefined();
    tooLarge(check(raw(5, 6), 100, { maxBytesElements: 10 }), "MAX_BYTES_ELEMENTS");
    // Counted from the shape: a shape over the budget is refused even when the
    // raw entry is empty, so the prefix walk never runs past the budget.
    tooLarge(check({ inputs: [{ name: "a", datatype: "BYTES", shape: [11n] }], rawInputContents: [new Uint8Array(0)] }, 100, { maxBytesElements: 10 }), "MAX_BYTES_ELEMENTS");
    expect(check(typed(10, 0), 100, { maxBytesElements: 10 })).toBeUndefined();
    tooLarge(check(typed(11, 0), 100, { maxBytesElements: 10 }), "MAX_BYTES_ELEMENTS");
  });

  it("bytes: content at and under the limit passes, one byte over is refused (length prefixes not counted)", () => {
    expect(check(raw(2, 3, 25), 100, { maxBytesLength: 125 })).toBeUndefined();
    expect(check(raw(2, 3, 24), 100, { maxBytesLength: 125 })).toBeUndefined();
    tooLarge(check({ ...raw(2, 3, 25), rawInputContents: [strings(2, 25), encodeRaw([new Uint8Array(25), new Uint8Array(25), new Uint8Array(26)])] }, 100, { maxBytesLength: 125 }), "MAX_BYTES_LENGTH");
    expect(check(typed(4, 25), 100, { maxBytesLength: 100 })).toBeUndefined();
    tooLarge(check({ inputs: [{ name: "t", datatype: "BYTES", shape: [2n], contents: { bytesContents: [new Uint8Array(50), new Uint8Array(51)] } }] }, 100, { maxBytesLength: 100 }), "MAX_BYTES_LENGTH");
  });

  it("numbers do not count against the BYTES budgets", () => {
    expect(check({ inputs: [{ name: "a", datatype: "UINT8", shape: [50n] }], rawInputContents: [new Uint8Array(50)] }, 100, { maxBytesElements: 1, maxBytesLength: 1 })).toBeUndefined();
  });
});

describe("request context", () => {
  const scope = detachedScope("r");

  it("uses the smaller of the client timeout and REQUEST_TIMEOUT_MS", () => {
    const now = () => 1000;
    expect(createRequestContext({ scope, maxTimeoutMs: 500, clientTimeoutMs: 200, now }).deadline).toBe(1200);
    expect(createRequestContext({ scope, maxTimeoutMs: 500, clientTimeoutMs: 9000, now }).deadline).toBe(1500);
    expect(createRequestContext({ scope, maxTimeoutMs: 500, now }).deadline).toBe(1500);
  });

  it("aborts with deadline_exceeded when the deadline passes", async () => {
    const ctx = createRequestContext({ scope, maxTimeoutMs: 20 });
    await new Promise((r) => setTimeout(r, 40));
    expect(ctx.signal.aborted).toBe(true);
    expect(ctx.signal.reason.code).toBe(Code.DeadlineExceeded);
  });

  it("aborts with canceled when the client goes away, and dispose clears the timer", () => {
    const client = new AbortController();
    const ctx = createRequestContext({ scope, maxTimeoutMs: 10_000, clientSignal: client.signal });
    client.abort();
    expect(ctx.signal.reason.code).toBe(Code.Canceled);
    ctx.dispose();
  });
});

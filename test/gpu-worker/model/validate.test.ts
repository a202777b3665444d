import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { encodeRaw } from "../../../common/oip/index.js";
import { ModelInferRequestSchema } from "../../../gen/inference/grpc_service_pb.js";
import { parseModelConfig } from "../../../gpu-worker/model/config.js";
import { validateInferRequest } from "../../../gpu-worker/model/validate.js";

const config = parseModelConfig(
  {
    max_batch_size: 4,
    input: [
      { name: "features", datatype: "FP32", dims: [3] },
      { name: "mask", datatype: "BOOL", dims: [-1] },
    ],
    output: [
      { name: "score", datatype: "FP32", dims: [1] },
      { name: "label", datatype: "INT64", dims: [1] },
    ],
  },
  "m/config.json",
  "m",
);

type RequestInit = Parameters<typeof create<typeof ModelInferRequestSchema>>[1];

const features = (rows: number) => ({ name: "features", datatype: "FP32", shape: [BigInt(rows), 3n] });
const mask = (rows: number, len: number) => ({ name: "mask", datatype: "BOOL", shape: [BigInt(rows), BigInt(len)] });
const raw = (rows: number, len: number) => [
  encodeRaw(new Float32Array(rows * 3).fill(0.5)),
  encodeRaw(new Uint8Array(rows * len).fill(1)),
];

const validate = (init: RequestInit) => validateInferRequest(create(ModelInferRequestSchema, init), config);

function rejection(init: RequestInit): ConnectError {
  try {
    validate(init);
  } catch (error) {
    expect(error).toBeInstanceOf(ConnectError);
    expect((error as ConnectError).code).toBe(Code.InvalidArgument);
    return error as ConnectError;
  }
  throw new Error("request was accepted");
}

describe("validateInferRequest accepts", () => {
  it("raw contents, returning inputs in config order and every output when none requested", () => {
    const result = validate({ inputs: [mask(2, 5), features(2)], rawInputContents: [raw(2, 5)[1]!, raw(2, 5)[0]!] });
    expect(result.rows).toBe(2);
    expect(result.inputs.map((t) => [t.name, t.shape])).toEqual([
      ["features", [2, 3]],
      ["mask", [2, 5]],
    ]);
    expect(result.inputs[0]!.values).toEqual(new Float32Array(6).fill(0.5));
    expect(result.outputs.map((o) => o.name)).toEqual(["score", "label"]);
  });

  it("typed contents and requested outputs in request order", () => {
    const result = validate({
      inputs: [
        { ...features(1), contents: { fp32Contents: [1, 2, 3] } },
        { ...mask(1, 2), contents: { boolContents: [true, false] } },
      ],
      outputs: [{ name: "label" }],
    });
    expect(result.inputs[1]!.values).toEqual(new Uint8Array([1, 0]));
    expect(result.outputs.map((o) => o.name)).toEqual(["label"]);
  });
});

describe("validateInferRequest rejects with invalid_argument naming the tensor", () => {
  it("a missing input", () => {
    expect(rejection({ inputs: [features(1)], rawInputContents: [raw(1, 1)[0]!] }).rawMessage).toMatch(
      /missing input "mask" \(BOOL, shape \[-1, -1\]\)/,
    );
  });

  it("an unknown input", () => {
    const error = rejection({ inputs: [features(1), mask(1, 1), { name: "extra", datatype: "FP32", shape: [1n] }] });
    expect(error.rawMessage).toMatch(/unknown input "extra"; model "m" takes "features", "mask"/);
  });

  it("a duplicate input", () => {
    expect(rejection({ inputs: [features(1), features(1)] }).rawMessage).toMatch(/input "features" appears more than once/);
  });

  it("a wrong datatype", () => {
    const error = rejection({ inputs: [{ ...features(1), datatype: "FP64" }, mask(1, 1)] });
    expect(error.rawMessage).toMatch(/input "features": datatype FP64 does not match the model's FP32/);
  });

  it("a wrong rank", () => {
    const error = rejection({ inputs: [{ ...features(1), shape: [3n] }, mask(1, 1)] });
    expect(error.rawMessage).toMatch(/input "features": shape \[3\] has rank 1, expected \[-1, 3\]/);
  });

  it("a wrong fixed dimension", () => {
    const error = rejection({ inputs: [{ ...features(1), shape: [1n, 4n] }, mask(1, 1)] });
    expect(error.rawMessage).toMatch(/input "features": shape \[1, 4\] does not match \[-1, 3\] at dimension 1/);
  });

  it("a batch above max_batch_size", () => {
    const error = rejection({ inputs: [features(5), mask(5, 1)], rawInputContents: raw(5, 1) });
    expect(error.rawMessage).toMatch(/input "features": batch size 5 is outside 1..4 \(max_batch_size\)/);
  });

  it("inputs disagreeing on the batch size", () => {
    const error = rejection({ inputs: [features(2), mask(1, 1)] });
    expect(error.rawMessage).toMatch(/input "mask": batch size 1 differs from the other inputs' 2/);
  });

  it("raw contents whose count does not match the inputs", () => {
    const error = rejection({ inputs: [features(1), mask(1, 1)], rawInputContents: [raw(1, 1)[0]!] });
    expect(error.rawMessage).toMatch(/raw_input_contents has 1 entries but the request has 2 inputs/);
  });

  it("raw contents of the wrong byte size", () => {
    const error = rejection({ inputs: [features(2), mask(2, 1)], rawInputContents: [raw(1, 1)[0]!, raw(2, 1)[1]!] });
    expect(error.rawMessage).toMatch(/input "features": raw contents hold 12 bytes but shape needs 6 × 4 = 24/);
  });

  it("typed contents of the wrong length", () => {
    const error = rejection({ inputs: [{ ...features(1), contents: { fp32Contents: [1] } }, { ...mask(1, 1), contents: { boolContents: [true] } }] });
    expect(error.rawMessage).toMatch(/input "features": contents hold 1 elements but shape needs 3/);
  });

  it("an unknown requested output", () => {
    const error = rejection({ inputs: [features(1), mask(1, 1)], rawInputContents: raw(1, 1), outputs: [{ name: "logits" }] });
    expect(error.rawMessage).toMatch(/unknown output "logits" requested; model "m" produces "score", "label"/);
  });
});

import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { encodeRaw, numberToFp16Bits, numberToBf16Bits } from "../../../common/oip/index.js";
import { ModelInferResponseSchema, ModelMetadataResponseSchema } from "../../../gen/inference/grpc_service_pb.js";
import { GatewayError } from "../../../edge/errors.js";
import { inferResponseToJson, modelMetadataToJson } from "../../../edge/rest/json-write.js";

const response = (datatype: string, shape: bigint[], raw: Uint8Array) =>
  create(ModelInferResponseSchema, { modelName: "m", modelVersion: "1", outputs: [{ name: "y", datatype, shape }], rawOutputContents: [raw] });
const dataText = (datatype: string, shape: bigint[], raw: Uint8Array) => {
  const text = inferResponseToJson(response(datatype, shape, raw));
  return text.slice(text.indexOf('"data":[') + 8, text.lastIndexOf("]}]}"));
};

describe("ModelInferResponse -> OIP JSON", () => {
  it("writes INT64/UINT64 beyond 2^53 as exact digits", () => {
    expect(dataText("INT64", [3n], encodeRaw(new BigInt64Array([9007199254740993n, -9223372036854775808n, 1n])))).toBe(
      "9007199254740993,-9223372036854775808,1",
    );
    expect(dataText("UINT64", [1n], encodeRaw(new BigUint64Array([18446744073709551615n])))).toBe("18446744073709551615");
  });

  it("decodes FP16/BF16 to numbers and writes non-finite floats as strings", () => {
    expect(dataText("FP16", [3n], encodeRaw(new Uint16Array([1.5, -2, 0.099975586].map(numberToFp16Bits))))).toBe("1.5,-2,0.0999755859375");
    expect(dataText("BF16", [1n], encodeRaw(new Uint16Array([numberToBf16Bits(3.140625)])))).toBe("3.140625");
    expect(dataText("FP32", [3n], encodeRaw(new Float32Array([0.5, Number.NaN, -Infinity])))).toBe('0.5,"NaN","-Infinity"');
  });

  it("writes BOOL as true/false, BYTES as UTF-8 strings, and flattens row-major", () => {
    expect(dataText("BOOL", [2n], new Uint8Array([1, 0]))).toBe("true,false");
    expect(dataText("BYTES", [2n], encodeRaw([new TextEncoder().encode('a"é'), new Uint8Array()]))).toBe('"a\\"é",""');
    expect(dataText("INT32", [2n, 2n], encodeRaw(new Int32Array([1, 2, 3, 4])))).toBe("1,2,3,4");
  });

  it("produces parseable JSON with model name/version, id, parameters and shape as numbers", () => {
    const res = create(ModelInferResponseSchema, {
      modelName: "iris", modelVersion: "3", id: "r7",
      parameters: { n: { parameterChoice: { case: "int64Param", value: 2n ** 62n } }, s: { parameterChoice: { case: "stringParam", value: "v" } } },
      outputs: [{ name: "y", datatype: "FP32", shape: [1n, 2n] }],
      rawOutputContents: [encodeRaw(new Float32Array([0.25, 1]))],
    });
    const text = inferResponseToJson(res);
    expect(text).toContain('"n":4611686018427387904');
    expect(JSON.parse(text)).toEqual({
      model_name: "iris", model_version: "3", id: "r7", parameters: { n: 2 ** 62, s: "v" },
      outputs: [{ name: "y", datatype: "FP32", shape: [1, 2], data: [0.25, 1] }],
    });
  });

  it("reads typed contents when the worker sent no raw outputs", () => {
    const res = create(ModelInferResponseSchema, { modelName: "m", modelVersion: "1", outputs: [{ name: "y", datatype: "INT32", shape: [2n], contents: { intContents: [7, -7] } }] });
    expect(JSON.parse(inferResponseToJson(res)).outputs[0].data).toEqual([7, -7]);
  });

  it("treats an output whose bytes do not match its shape as a worker fault (internal)", () => {
    let error: unknown;
    try { inferResponseToJson(response("FP32", [3n], new Uint8Array(4))); } catch (e) { error = e; }
    expect(error).toBeInstanceOf(GatewayError);
    expect((error as GatewayError).code).toBe(13);
    expect((error as GatewayError).message).toMatch(/worker sent a malformed response: output "y"/);
  });

  it("writes model metadata with numeric shapes and parameters", () => {
    const md = create(ModelMetadataResponseSchema, {
      name: "iris", versions: ["1", "2"], platform: "onnxruntime_onnx",
      inputs: [{ name: "input", datatype: "FP32", shape: [-1n, 4n] }], outputs: [],
      parameters: { deterministic: { parameterChoice: { case: "boolParam", value: true } } },
    });
    expect(JSON.parse(modelMetadataToJson(md))).toEqual({
      name: "iris", versions: ["1", "2"], platform: "onnxruntime_onnx",
      inputs: [{ name: "input", datatype: "FP32", shape: [-1, 4] }], outputs: [], parameters: { deterministic: true },
    });
  });
});

// Known iris rows (one per species, from the real data set) and the
// reference answer: onnxruntime's own output for the same model file.
import { create } from "@bufbuild/protobuf";
import * as ort from "onnxruntime-node";
import { join } from "node:path";
import { ModelInferRequestSchema, type ModelInferRequest } from "../../gen/inference/grpc_service_pb.js";
import { MODELS } from "./paths.js";

export const IRIS_ROWS = [
  [5.1, 3.5, 1.4, 0.2], // setosa
  [7.0, 3.2, 4.7, 1.4], // versicolor
  [6.3, 3.3, 6.0, 2.5], // virginica
];

export function irisRestBody(rows = IRIS_ROWS) {
  return { inputs: [{ name: "input", datatype: "FP32", shape: [rows.length, 4], data: rows }] };
}

export function irisRequest(rows = IRIS_ROWS, raw = true): ModelInferRequest {
  const values = new Float32Array(rows.flat());
  return create(ModelInferRequestSchema, {
    modelName: "iris",
    inputs: [
      {
        name: "input",
        datatype: "FP32",
        shape: [BigInt(rows.length), 4n],
        ...(raw ? {} : { contents: { fp32Contents: Array.from(values) } }),
      },
    ],
    rawInputContents: raw ? [new Uint8Array(values.buffer)] : [],
  });
}

/** What onnxruntime itself answers for these rows, in-process. */
export async function irisReference(rows = IRIS_ROWS): Promise<{ probabilities: number[]; label: number[] }> {
  const session = await ort.InferenceSession.create(join(MODELS, "iris/1/model.onnx"));
  const out = await session.run({ input: new ort.Tensor("float32", new Float32Array(rows.flat()), [rows.length, 4]) });
  const result = {
    probabilities: Array.from(out.probabilities!.data as Float32Array),
    label: Array.from(out.label!.data as BigInt64Array, Number),
  };
  await session.release();
  return result;
}

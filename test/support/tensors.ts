// Reads a ModelInferResponse's outputs (raw or typed contents) into plain
// JSON-like values, so answers from every protocol compare with toEqual.
import { decodeContents, decodeRaw, elementCount, fp16BitsToNumber, isDatatype } from "../../common/oip/index.js";
import type { ModelInferResponse } from "../../gen/inference/grpc_service_pb.js";

export interface PlainTensor {
  name: string;
  datatype: string;
  shape: number[];
  data: (number | string | boolean)[];
}

export function plainOutputs(response: ModelInferResponse): PlainTensor[] {
  return response.outputs.map((output, index) => {
    if (!isDatatype(output.datatype)) throw new Error(`unknown datatype ${output.datatype}`);
    const shape = output.shape.map(Number);
    const count = elementCount(shape) as number;
    const raw = response.rawOutputContents[index];
    const values = raw ? decodeRaw(output.datatype, raw, count) : decodeContents(output.datatype, output.contents, count);
    if (values instanceof Error) throw values;
    const data = Array.isArray(values)
      ? values.map((bytes) => new TextDecoder().decode(bytes))
      : output.datatype === "FP16"
        ? Array.from(values as Uint16Array, fp16BitsToNumber)
        : output.datatype === "BOOL"
          ? Array.from(values as Uint8Array, (b) => b === 1)
          : Array.from(values as ArrayLike<number | bigint>, (v) => (typeof v === "bigint" ? Number(v) : v));
    return { name: output.name, datatype: output.datatype, shape, data };
  });
}

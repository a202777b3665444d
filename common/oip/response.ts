// Reading a ModelInferResponse's outputs, whichever way the worker sent them
// (raw_output_contents or typed contents). The edge, the browser client and
// the tests all read answers through this one function.
import type { ModelInferResponse } from "../../gen/inference/grpc_service_pb.js";
import { decodeContents, decodeRaw } from "./codec.js";
import { isDatatype, type TensorValues } from "./datatypes.js";
import { bf16BitsToNumber, fp16BitsToNumber } from "./fp16.js";
import { elementCount } from "./shape.js";

/** Output `index` decoded, or an Error naming the output and what is wrong with it. */
export function decodeOutput(response: ModelInferResponse, index: number): TensorValues | Error {
  const output = response.outputs[index];
  if (output === undefined) return new Error(`the response has no output #${index}`);
  const label = `output "${output.name}"`;
  if (!isDatatype(output.datatype)) return new Error(`${label} has unknown datatype "${output.datatype}"`);
  const count = elementCount(output.shape);
  if (count instanceof Error) return new Error(`${label}: ${count.message}`);
  const raw = response.rawOutputContents[index];
  const values = raw !== undefined ? decodeRaw(output.datatype, raw, count) : decodeContents(output.datatype, output.contents, count);
  return values instanceof Error ? new Error(`${label}: ${values.message}`) : values;
}

/** Numeric values as doubles (FP16/BF16 decoded from their bits); null for BYTES. */
export function toNumbers(datatype: string, values: TensorValues): number[] | null {
  if (Array.isArray(values)) return null;
  switch (datatype) {
    case "FP16":
      return Array.from(values as Uint16Array, fp16BitsToNumber);
    case "BF16":
      return Array.from(values as Uint16Array, bf16BitsToNumber);
    default:
      return Array.from(values as ArrayLike<number | bigint>, Number);
  }
}

// JSON text for REST responses, written by hand where JSON.stringify falls
// short: 64-bit integers keep every digit (JSON.stringify cannot write a
// bigint, and a double would round past 2^53), non-finite floats become the
// strings "NaN" / "Infinity" / "-Infinity" (JSON has no such numbers), and
// FP16/BF16 bit patterns are written as the numbers they encode.
import { bf16BitsToNumber, decodeOutput, fp16BitsToNumber, type TensorValues } from "../../common/oip/index.js";
import type { ModelInferResponse, ModelMetadataResponse } from "../../gen/inference/grpc_service_pb.js";
import { Code } from "@connectrpc/connect";
import { GatewayError } from "../errors.js";
import { parametersToJson } from "./json-params.js";

export function jsonNumber(value: number): string {
  if (Number.isFinite(value)) return String(value);
  return Number.isNaN(value) ? '"NaN"' : value > 0 ? '"Infinity"' : '"-Infinity"';
}

export function jsonBigInt(value: bigint): string {
  return value.toString();
}

const utf8 = new TextDecoder();

/** The OIP v2 JSON inference response, data flattened row-major. */
export function inferResponseToJson(response: ModelInferResponse): string {
  const outputs = response.outputs.map((output, index) => {
    const values = outputValues(response, index);
    const parameters = parametersToJson(output.parameters);
    return (
      `{"name":${JSON.stringify(output.name)},"datatype":${JSON.stringify(output.datatype)},` +
      `"shape":[${output.shape.join(",")}]` +
      (parameters ? `,"parameters":${parameters}` : "") +
      `,"data":[${dataToJson(output.datatype, values)}]}`
    );
  });
  const parameters = parametersToJson(response.parameters);
  return (
    `{"model_name":${JSON.stringify(response.modelName)},"model_version":${JSON.stringify(response.modelVersion)}` +
    (response.id ? `,"id":${JSON.stringify(response.id)}` : "") +
    (parameters ? `,"parameters":${parameters}` : "") +
    `,"outputs":[${outputs.join(",")}]}`
  );
}

/**
 * The elements of output `index`, from `raw_output_contents` or typed
 * `contents`; an inconsistent tensor is the worker's fault (`internal`).
 * Shared with the GraphQL adapter.
 */
export function outputValues(response: ModelInferResponse, index: number): TensorValues {
  const values = decodeOutput(response, index);
  if (values instanceof Error) throw badUpstream(values.message);
  return values;
}

/** Elements as comma-separated JSON values. */
export function dataToJson(datatype: string, values: TensorValues): string {
  if (Array.isArray(values)) return values.map((bytes) => JSON.stringify(utf8.decode(bytes))).join(",");
  switch (datatype) {
    case "BOOL":
      return Array.from(values as Uint8Array, (b) => (b ? "true" : "false")).join(",");
    case "FP16":
      return Array.from(values as Uint16Array, (bits) => jsonNumber(fp16BitsToNumber(bits))).join(",");
    case "BF16":
      return Array.from(values as Uint16Array, (bits) => jsonNumber(bf16BitsToNumber(bits))).join(",");
    case "FP32":
    case "FP64": {
      const floats = values as Float32Array | Float64Array;
      // Fast path: typed-array join writes the shortest round-trip digits.
      if (floats.every(Number.isFinite)) return floats.join(",");
      return Array.from(floats, jsonNumber).join(",");
    }
    default:
      // Integers, including BigInt64/BigUint64 whose join writes exact digits.
      return values.join(",");
  }
}

/** OIP model metadata JSON (shape as numbers; parameters when present). */
export function modelMetadataToJson(metadata: ModelMetadataResponse): string {
  const tensors = (list: ModelMetadataResponse["inputs"]) =>
    `[${list
      .map((t) => `{"name":${JSON.stringify(t.name)},"datatype":${JSON.stringify(t.datatype)},"shape":[${t.shape.join(",")}]}`)
      .join(",")}]`;
  const parameters = parametersToJson(metadata.parameters);
  return (
    `{"name":${JSON.stringify(metadata.name)},"versions":${JSON.stringify(metadata.versions)},` +
    `"platform":${JSON.stringify(metadata.platform)},"inputs":${tensors(metadata.inputs)},"outputs":${tensors(metadata.outputs)}` +
    (parameters ? `,"parameters":${parameters}` : "") +
    "}"
  );
}

// A worker that answers with an inconsistent tensor is a server fault, not
// the client's: `internal`, with the detail kept in the message for logs.
function badUpstream(message: string): GatewayError {
  return new GatewayError(Code.Internal, `worker sent a malformed response: ${message}`);
}

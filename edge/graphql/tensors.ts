// GraphQL tensors <-> protobuf. Inputs go through the REST adapter's OIP
// JSON converter (the GraphQL input type is the OIP JSON tensor shape), so
// both protocols accept and reject exactly the same data. Outputs are
// decoded with REST's `outputValues` and turned into JSON values only when
// a client selects `data`.
import {
  bf16BitsToNumber,
  fp16BitsToNumber,
  type TensorValues,
} from "../../common/oip/index.js";
import type { InferParameter, ModelInferRequest, ModelInferResponse } from "../../gen/inference/grpc_service_pb.js";
import { inferRequestFromJson } from "../rest/json-tensors.js";
import { outputValues } from "../rest/json-write.js";

export interface InferInputArg {
  readonly name: string;
  readonly datatype: string;
  readonly shape: readonly number[];
  readonly data: unknown;
  readonly parameters?: Record<string, unknown> | null;
}

export interface InferArgs {
  readonly model: string;
  readonly version?: string | null;
  readonly id?: string | null;
  readonly inputs: readonly InferInputArg[];
  readonly outputs?: readonly { readonly name: string; readonly parameters?: Record<string, unknown> | null }[] | null;
  readonly parameters?: Record<string, unknown> | null;
}

/** GraphQL arguments -> ModelInferRequest (invalid_argument GatewayErrors naming the tensor). */
export function inferRequestFromArgs(args: InferArgs, maxElements: number): ModelInferRequest {
  const body = {
    id: args.id ?? undefined,
    inputs: args.inputs.map((t) => ({ ...t, parameters: t.parameters ?? undefined })),
    outputs: args.outputs?.map((o) => ({ name: o.name, parameters: o.parameters ?? undefined })),
    parameters: args.parameters ?? undefined,
  };
  return inferRequestFromJson(body, { modelName: args.model, modelVersion: args.version ?? "" }, maxElements);
}

/** A decoded output tensor (values stay typed until `data` is selected). */
export interface DecodedTensor {
  readonly name: string;
  readonly datatype: string;
  readonly shape: number[];
  readonly values: TensorValues;
  readonly parameters: Readonly<Record<string, InferParameter>>;
}

export interface InferResult {
  readonly modelName: string;
  readonly modelVersion: string;
  readonly id: string;
  readonly parameters: Readonly<Record<string, InferParameter>>;
  readonly outputs: readonly DecodedTensor[];
}

export function decodeResponse(response: ModelInferResponse): InferResult {
  return {
    modelName: response.modelName,
    modelVersion: response.modelVersion,
    id: response.id,
    parameters: response.parameters,
    outputs: response.outputs.map((output, index) => ({
      name: output.name,
      datatype: output.datatype,
      shape: output.shape.map(Number),
      values: outputValues(response, index),
      parameters: output.parameters,
    })),
  };
}

const utf8 = new TextDecoder();
const SAFE = BigInt(Number.MAX_SAFE_INTEGER);

const finite = (v: number): number | string => (Number.isFinite(v) ? v : Number.isNaN(v) ? "NaN" : v > 0 ? "Infinity" : "-Infinity");

/**
 * Values as JSON values, with REST's spellings: BYTES as UTF-8 strings,
 * non-finite floats as strings, 64-bit integers as numbers when exact, else
 * decimal strings (a GraphQL response is JSON; a double would round them).
 */
export function valuesToJson(datatype: string, values: TensorValues): unknown[] {
  if (Array.isArray(values)) return values.map((bytes) => utf8.decode(bytes));
  switch (datatype) {
    case "BOOL":
      return Array.from(values as Uint8Array, (b) => b !== 0);
    case "FP16":
      return Array.from(values as Uint16Array, (bits) => finite(fp16BitsToNumber(bits)));
    case "BF16":
      return Array.from(values as Uint16Array, (bits) => finite(bf16BitsToNumber(bits)));
    case "FP32":
    case "FP64":
      return Array.from(values as Float32Array, finite);
    case "INT64":
    case "UINT64":
      return Array.from(values as BigInt64Array, (v) => (v <= SAFE && v >= -SAFE ? Number(v) : v.toString()));
    default:
      return Array.from(values as Int32Array);
  }
}

// OIP v2 JSON inference request -> ModelInferRequest. Tensor data is written
// straight into the typed array the datatype needs and sent to the worker as
// `raw_input_contents` (the view over that array, no further copy). Every
// message names the tensor and says what to fix.
import { create } from "@bufbuild/protobuf";
import {
  DATATYPE_INFO,
  DATATYPES,
  INTEGER_RANGE,
  elementCount,
  encodeRaw,
  formatShape,
  isDatatype,
  numberToBf16Bits,
  numberToFp16Bits,
  type Datatype,
} from "../../common/oip/index.js";
import {
  ModelInferRequestSchema,
  ModelInferRequest_InferInputTensorSchema,
  ModelInferRequest_InferRequestedOutputTensorSchema,
  type InferParameter,
  type ModelInferRequest,
} from "../../gen/inference/grpc_service_pb.js";
import { invalidArgument } from "../errors.js";
import { MAX_TENSOR_RANK, quote } from "./json-limits.js";
import { parametersFromJson } from "./json-params.js";

const utf8 = new TextEncoder();

export interface InferTarget {
  readonly modelName: string;
  readonly modelVersion: string;
}

/** Converts a parsed JSON body; throws invalid_argument GatewayErrors. */
export function inferRequestFromJson(body: unknown, target: InferTarget, maxElements = Number.MAX_SAFE_INTEGER): ModelInferRequest {
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    throw invalidArgument('the request body must be a JSON object like {"inputs": [...]}');
  }
  const json = body as Record<string, unknown>;
  if (json.id !== undefined && typeof json.id !== "string") throw invalidArgument('"id" must be a string');
  if (!Array.isArray(json.inputs) || json.inputs.length === 0) {
    throw invalidArgument('"inputs" must be a non-empty array of tensors {name, shape, datatype, data}');
  }
  if (json.outputs !== undefined && !Array.isArray(json.outputs)) {
    throw invalidArgument('"outputs" must be an array of {name, parameters?}');
  }
  let budget = maxElements;
  const inputs: ModelInferRequest["inputs"] = [];
  const raw: Uint8Array[] = [];
  (json.inputs as unknown[]).forEach((entry, index) => {
    const { tensor, bytes, count } = inputFromJson(entry, index, budget);
    budget -= count;
    inputs.push(tensor);
    raw.push(bytes);
  });
  const outputs = ((json.outputs as unknown[] | undefined) ?? []).map(outputFromJson);
  return create(ModelInferRequestSchema, {
    modelName: target.modelName,
    modelVersion: target.modelVersion,
    id: (json.id as string | undefined) ?? "",
    parameters: parametersFromJson(json.parameters, "request", "request"),
    inputs,
    outputs,
    rawInputContents: raw,
  });
}

function inputFromJson(entry: unknown, index: number, budget: number) {
  if (entry === null || typeof entry !== "object" || Array.isArray(entry)) {
    throw invalidArgument(`inputs[${index}] must be an object {name, shape, datatype, data}`);
  }
  const json = entry as Record<string, unknown>;
  if (typeof json.name !== "string" || json.name === "") throw invalidArgument(`inputs[${index}] needs a "name" string`);
  const label = `input ${quote(json.name)}`;
  if (typeof json.datatype !== "string") {
    throw invalidArgument(`${label} needs a "datatype" (one of ${DATATYPES.join(", ")})`);
  }
  if (!isDatatype(json.datatype)) {
    throw invalidArgument(`${label}: unknown datatype ${quote(json.datatype)} (expected one of ${DATATYPES.join(", ")})`);
  }
  const datatype = json.datatype;
  const shape = shapeFromJson(json.shape, label);
  const count = elementCount(shape, budget);
  if (count instanceof Error) {
    // Dimensions were checked above, so this is the element budget; the
    // pipeline words and maps that one for every protocol.
    return { tensor: tensorOf(json, label, datatype, shape), bytes: new Uint8Array(0), count: budget + 1 };
  }
  const parameters = parametersFromJson(json.parameters, label);
  rejectBinaryData(parameters, label, "binary_data_size");
  rejectBinaryData(parameters, label, "binary_data");
  if (json.data === undefined) throw invalidArgument(`${label} needs "data": an array of ${count} values (flat or nested, row-major)`);
  const bytes = encodeData(json.data, datatype, shape, count, label);
  return { tensor: tensorOf(json, label, datatype, shape, parameters), bytes, count };
}

function tensorOf(
  json: Record<string, unknown>,
  label: string,
  datatype: Datatype,
  shape: number[],
  parameters?: Record<string, InferParameter>,
) {
  return create(ModelInferRequest_InferInputTensorSchema, {
    name: json.name as string,
    datatype,
    shape: shape.map(BigInt),
    parameters: parameters ?? parametersFromJson(json.parameters, label),
  });
}

function shapeFromJson(value: unknown, label: string): number[] {
  if (!Array.isArray(value)) throw invalidArgument(`${label} needs a "shape": an array of non-negative integers`);
  // The rank bounds how deep `data` may nest, so every walk below stays shallow.
  if (value.length > MAX_TENSOR_RANK) {
    throw invalidArgument(`${label}: shape has ${value.length} dimensions; at most ${MAX_TENSOR_RANK} are supported`);
  }
  value.forEach((dim, i) => {
    if (typeof dim !== "number" || !Number.isSafeInteger(dim) || dim < 0) {
      throw invalidArgument(`${label}: shape[${i}] is ${quote(dim)}; shape must hold non-negative integers only`);
    }
  });
  return value as number[];
}

function outputFromJson(entry: unknown, index: number) {
  if (entry === null || typeof entry !== "object" || Array.isArray(entry)) {
    throw invalidArgument(`outputs[${index}] must be an object {name, parameters?}`);
  }
  const json = entry as Record<string, unknown>;
  if (typeof json.name !== "string" || json.name === "") throw invalidArgument(`outputs[${index}] needs a "name" string`);
  const label = `output ${quote(json.name)}`;
  const parameters = parametersFromJson(json.parameters, label, "output");
  rejectBinaryData(parameters, label, "binary_data");
  return create(ModelInferRequest_InferRequestedOutputTensorSchema, { name: json.name, parameters });
}

// Triton's binary tensor extension (raw bytes after the JSON) is not
// supported over REST: Connect/gRPC-Web carry binary tensors instead.
// `binary_data: false` asks for what we do anyway, so it is dropped.
function rejectBinaryData(parameters: Record<string, InferParameter>, label: string, key: string): void {
  const param = parameters[key];
  if (param === undefined) return;
  const choice = param.parameterChoice;
  if (key === "binary_data" && choice.case === "boolParam" && !choice.value) {
    delete parameters[key];
    return;
  }
  throw invalidArgument(
    `${label}: "${key}" (the binary tensor extension) is not supported over REST; send JSON data, or use Connect/gRPC-Web for binary tensors`,
  );
}

// ---- data -----------------------------------------------------------------

type Sink = (value: unknown, index: number) => void;

function encodeData(data: unknown, datatype: Datatype, shape: readonly number[], count: number, label: string): Uint8Array {
  if (!Array.isArray(data)) throw invalidArgument(`${label}: "data" must be an array (flat or nested, row-major)`);
  const allocate = DATATYPE_INFO[datatype].allocate;
  if (allocate === null) return encodeStrings(data, shape, count, label);
  const values = allocate(count);
  walk(data, shape, count, label, sinkFor(datatype, values, label));
  return encodeRaw(values);
}

/**
 * BYTES as raw contents (4-byte little-endian length, then the UTF-8 bytes)
 * written straight into one buffer: no array per element, so the cost
 * follows the bytes. A million empty strings took seconds of edge CPU as one
 * encoded array each. The buffer is sized for the worst case (3 UTF-8 bytes
 * per UTF-16 unit) and handed on as a view of what was written.
 */
function encodeStrings(data: unknown[], shape: readonly number[], count: number, label: string): Uint8Array {
  const strings: string[] = new Array(count);
  let units = 0;
  walk(data, shape, count, label, (value, i) => {
    if (typeof value !== "string") throw elementError(label, i, value, "must be a string for BYTES");
    strings[i] = value;
    units += value.length;
  });
  const out = new Uint8Array(4 * count + 3 * units);
  const view = new DataView(out.buffer);
  let offset = 0;
  for (const text of strings) {
    const written = text.length === 0 ? 0 : utf8.encodeInto(text, out.subarray(offset + 4)).written;
    view.setUint32(offset, written, true);
    offset += 4 + written;
  }
  return out.subarray(0, offset);
}

/**
 * Visits the elements of flat or nested row-major `data` in order. Nested
 * data must match the shape level by level; flat data must hold exactly
 * `count` scalars. The recursion is at most the shape's rank deep
 * (MAX_TENSOR_RANK): anything nested deeper is refused at the last level.
 */
function walk(data: unknown[], shape: readonly number[], count: number, label: string, sink: Sink): void {
  if (data.length > 0 && Array.isArray(data[0]) && shape.length > 1) {
    let index = 0;
    const visit = (level: unknown[], depth: number, path: string): void => {
      if (level.length !== shape[depth]) {
        throw invalidArgument(
          `${label}: data${path} has ${level.length} entries but shape ${formatShape(shape)} needs ${shape[depth]} at dimension ${depth}`,
        );
      }
      const leaf = depth === shape.length - 1;
      for (let i = 0; i < level.length; i++) {
        const item = level[i];
        if (leaf) {
          if (Array.isArray(item)) throw invalidArgument(`${label}: data${path}[${i}] is nested deeper than shape ${formatShape(shape)}`);
          sink(item, index++);
        } else {
          if (!Array.isArray(item)) {
            throw invalidArgument(`${label}: data${path}[${i}] must be an array to match shape ${formatShape(shape)}`);
          }
          visit(item, depth + 1, `${path}[${i}]`);
        }
      }
    };
    visit(data, 0, "");
    return;
  }
  if (data.length !== count) {
    throw invalidArgument(`${label}: data holds ${data.length} values but shape ${formatShape(shape)} needs ${count}`);
  }
  for (let i = 0; i < count; i++) {
    const item = data[i];
    if (Array.isArray(item)) {
      throw invalidArgument(`${label}: data[${i}] is an array; send flat values or nest every level to match shape ${formatShape(shape)}`);
    }
    sink(item, i);
  }
}

// Non-finite floats cannot be JSON numbers; these spellings are accepted
// for float types and are what responses use.
const NON_FINITE: Readonly<Record<string, number>> = { NaN: Number.NaN, Infinity: Infinity, "-Infinity": -Infinity };

function sinkFor(datatype: Datatype, values: ArrayLike<unknown>, label: string): Sink {
  const target = values as unknown as { [i: number]: number | bigint };
  switch (datatype) {
    case "BOOL":
      return (value, i) => {
        if (typeof value !== "boolean") throw elementError(label, i, value, "must be true or false for BOOL");
        target[i] = value ? 1 : 0;
      };
    case "FP16":
    case "BF16": {
      const toBits = datatype === "FP16" ? numberToFp16Bits : numberToBf16Bits;
      return (value, i) => {
        target[i] = toBits(floatOf(value, i, label, datatype));
      };
    }
    case "FP32":
    case "FP64":
      return (value, i) => {
        target[i] = floatOf(value, i, label, datatype);
      };
    case "INT64":
    case "UINT64": {
      const [min, max] = INTEGER_RANGE[datatype]!;
      return (value, i) => {
        let v: bigint;
        if (typeof value === "bigint") v = value;
        else if (typeof value === "number") {
          if (!Number.isInteger(value)) throw elementError(label, i, value, `must be an integer for ${datatype}`);
          if (!Number.isSafeInteger(value)) {
            throw elementError(label, i, value, `is beyond ±2^53 and lost precision as a JSON number; send it as a decimal string`);
          }
          v = BigInt(value);
        } else if (typeof value === "string" && /^-?\d+$/.test(value)) v = BigInt(value);
        else throw elementError(label, i, value, `must be an integer (number or decimal string) for ${datatype}`);
        if (v < min || v > max) throw elementError(label, i, value, `is out of range for ${datatype} [${min}, ${max}]`);
        target[i] = v;
      };
    }
    default: {
      const [min, max] = INTEGER_RANGE[datatype]!.map(Number) as [number, number];
      return (value, i) => {
        if (typeof value !== "number") throw elementError(label, i, value, `must be an integer for ${datatype}`);
        if (!Number.isInteger(value)) throw elementError(label, i, value, `must be an integer for ${datatype}`);
        if (value < min || value > max) throw elementError(label, i, value, `is out of range for ${datatype} [${min}, ${max}]`);
        target[i] = value;
      };
    }
  }
}

function floatOf(value: unknown, i: number, label: string, datatype: Datatype): number {
  if (typeof value === "number") return value;
  if (typeof value === "bigint") return Number(value);
  if (typeof value === "string" && Object.hasOwn(NON_FINITE, value)) return NON_FINITE[value]!;
  throw elementError(label, i, value, `must be a number for ${datatype}`);
}

function elementError(label: string, index: number, value: unknown, problem: string) {
  return invalidArgument(`${label}: element ${index} (${quote(value)}) ${problem}`);
}

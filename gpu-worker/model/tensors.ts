// OIP tensors <-> onnxruntime-node tensors.
//
// Fixed-size datatypes map one to one onto onnxruntime's typed arrays and are
// passed without conversion (FP16 travels as its 16-bit patterns in a
// Uint16Array, BOOL as one byte per element).
//
// BYTES maps to ONNX `string`: onnxruntime-node only exchanges string tensors
// as JS strings, so each element is decoded as UTF-8 on the way in (invalid
// UTF-8 is rejected rather than silently replaced, which would change the
// model's input) and encoded as UTF-8 on the way out. Arbitrary binary blobs
// therefore cannot pass through a string tensor; models that need raw bytes
// take UINT8 instead. onnxruntime-node also cuts strings at the first NUL
// (it hands them to C as NUL-terminated), so elements containing NUL are
// rejected rather than truncated.
//
// BYTES cost follows the bytes where the API allows: validation checks UTF-8
// and NUL in place (no strings built), strings are made once when the
// onnxruntime tensor is built, and outputs are encoded into one buffer with a
// view per element. The element count itself is bounded by MAX_BYTES_ELEMENTS
// (see limits.ts), since onnxruntime-node needs one JS string per element.
//
// BF16 is an OIP datatype with no onnxruntime-node tensor type; model configs
// using it are refused at load time, and `toOrtTensor` refuses it too.
import { isUtf8 } from "node:buffer";
import { Code, ConnectError } from "@connectrpc/connect";
import ort from "onnxruntime-node";
import type { Datatype, TensorValues } from "../../common/oip/index.js";

/** A decoded tensor inside the worker. */
export interface Tensor {
  readonly name: string;
  readonly datatype: Datatype;
  readonly shape: readonly number[];
  readonly values: TensorValues;
}

type OrtType = ort.Tensor.Type;

export const ORT_TYPE: Readonly<Record<Exclude<Datatype, "BF16">, OrtType>> = {
  BOOL: "bool",
  UINT8: "uint8",
  UINT16: "uint16",
  UINT32: "uint32",
  UINT64: "uint64",
  INT8: "int8",
  INT16: "int16",
  INT32: "int32",
  INT64: "int64",
  FP16: "float16",
  FP32: "float32",
  FP64: "float64",
  BYTES: "string",
};

const DATATYPE_OF: ReadonlyMap<string, Datatype> = new Map(
  Object.entries(ORT_TYPE).map(([datatype, type]) => [type, datatype as Datatype]),
);

/** The OIP datatype for an onnxruntime type name, or undefined when OIP has none (e.g. int4). */
export function datatypeOfOrtType(type: string): Datatype | undefined {
  return DATATYPE_OF.get(type);
}

const utf8Decoder = new TextDecoder("utf-8", { fatal: true });
const utf8Encoder = new TextEncoder();

const nulError = (name: string, i: number) =>
  new ConnectError(
    `input "${name}": element ${i} contains a NUL byte, which ONNX string tensors in onnxruntime-node cannot carry`,
    Code.InvalidArgument,
  );
const notUtf8Error = (name: string, i: number) =>
  new ConnectError(
    `input "${name}": element ${i} is not valid UTF-8 (BYTES inputs feed ONNX string tensors)`,
    Code.InvalidArgument,
  );

/**
 * Checks that every BYTES element can become an ONNX string, without
 * building the strings. Called during validation, so one client's bad bytes
 * fail its own request rather than the batch it would have joined.
 */
export function checkUtf8Elements(tensor: Tensor): void {
  (tensor.values as Uint8Array[]).forEach((bytes, i) => {
    if (bytes.includes(0)) throw nulError(tensor.name, i);
    if (!isUtf8(bytes)) throw notUtf8Error(tensor.name, i);
  });
}

/** BYTES elements as strings for an ONNX string tensor; refuses what checkUtf8Elements refuses. */
export function utf8Strings(tensor: Tensor): string[] {
  return (tensor.values as Uint8Array[]).map((bytes, i) => {
    if (bytes.includes(0)) throw nulError(tensor.name, i);
    try {
      return utf8Decoder.decode(bytes);
    } catch {
      throw notUtf8Error(tensor.name, i);
    }
  });
}

/** Strings as UTF-8 BYTES elements: one buffer for all, a view per element. */
function utf8Elements(strings: readonly string[]): Uint8Array[] {
  const lengths = strings.map((s) => Buffer.byteLength(s, "utf8"));
  const buffer = new Uint8Array(lengths.reduce((a, b) => a + b, 0));
  let offset = 0;
  return strings.map((s, i) => {
    const item = buffer.subarray(offset, offset + lengths[i]!);
    utf8Encoder.encodeInto(s, item);
    offset += lengths[i]!;
    return item;
  });
}

export function toOrtTensor(tensor: Tensor): ort.Tensor {
  const { name, datatype, values, shape } = tensor;
  if (datatype === "BF16") {
    throw new ConnectError(`input "${name}": BF16 tensors are not supported by onnxruntime-node`, Code.Unimplemented);
  }
  if (datatype === "BYTES") return new ort.Tensor("string", utf8Strings(tensor), shape);
  // The typed array already has the element type onnxruntime expects for this datatype.
  return new ort.Tensor(ORT_TYPE[datatype] as "float32", values as Float32Array, shape);
}

export function fromOrtTensor(name: string, tensor: ort.Tensor): Tensor {
  const datatype = datatypeOfOrtType(tensor.type);
  if (datatype === undefined) {
    throw new ConnectError(`output "${name}": onnxruntime type ${tensor.type} has no OIP datatype`, Code.Internal);
  }
  const shape = tensor.dims.slice();
  if (datatype === "BYTES") {
    return { name, datatype, shape, values: utf8Elements(tensor.data as string[]) };
  }
  return { name, datatype, shape, values: tensor.data as TensorValues };
}

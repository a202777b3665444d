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
// BF16 is an OIP datatype with no onnxruntime-node tensor type; model configs
// using it are refused at load time, and `toOrtTensor` refuses it too.
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

/**
 * BYTES elements as strings for an ONNX string tensor. Called during
 * validation too, so one client's bad bytes fail its own request rather than
 * the batch it would have joined.
 */
export function utf8Strings(tensor: Tensor): string[] {
  return (tensor.values as Uint8Array[]).map((bytes, i) => {
    if (bytes.includes(0)) {
      throw new ConnectError(
        `input "${tensor.name}": element ${i} contains a NUL byte, which ONNX string tensors in onnxruntime-node cannot carry`,
        Code.InvalidArgument,
      );
    }
    try {
      return utf8Decoder.decode(bytes);
    } catch {
      throw new ConnectError(
        `input "${tensor.name}": element ${i} is not valid UTF-8 (BYTES inputs feed ONNX string tensors)`,
        Code.InvalidArgument,
      );
    }
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
    return { name, datatype, shape, values: (tensor.data as string[]).map((s) => utf8Encoder.encode(s)) };
  }
  return { name, datatype, shape, values: tensor.data as TensorValues };
}

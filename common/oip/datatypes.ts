// The Open Inference Protocol's tensor datatypes and how each is held in
// memory. Shared by the edge (JSON <-> protobuf) and the worker
// (protobuf <-> onnxruntime), so both agree on sizes and encodings.
import type { InferTensorContents } from "../../gen/inference/grpc_service_pb.js";

export const DATATYPES = [
  "BOOL",
  "UINT8",
  "UINT16",
  "UINT32",
  "UINT64",
  "INT8",
  "INT16",
  "INT32",
  "INT64",
  "FP16",
  "BF16",
  "FP32",
  "FP64",
  "BYTES",
] as const;

export type Datatype = (typeof DATATYPES)[number];

/** The typed array that holds a datatype's elements (raw bits for FP16/BF16). */
export type NumericArray =
  | Uint8Array
  | Uint16Array
  | Uint32Array
  | BigUint64Array
  | Int8Array
  | Int16Array
  | Int32Array
  | BigInt64Array
  | Float32Array
  | Float64Array;

/**
 * Decoded tensor values: a typed array for fixed-size types (BOOL as one
 * byte per element, FP16/BF16 as their 16-bit patterns), or one byte string
 * per element for BYTES.
 */
export type TensorValues = NumericArray | Uint8Array[];

type ContentsField = Exclude<keyof InferTensorContents, "$typeName" | "$unknown">;

export interface DatatypeInfo {
  /** Bytes per element; 0 for BYTES, whose elements vary in length. */
  readonly byteSize: number;
  /** Where typed (non-raw) contents live in `InferTensorContents`; null where OIP allows raw only. */
  readonly contentsField: ContentsField | null;
  /** Allocates a typed array of `length` elements (BYTES has none). */
  readonly allocate: ((length: number) => NumericArray) | null;
}

const info = (
  byteSize: number,
  contentsField: ContentsField | null,
  allocate: ((length: number) => NumericArray) | null,
): DatatypeInfo => ({ byteSize, contentsField, allocate });

export const DATATYPE_INFO: Readonly<Record<Datatype, DatatypeInfo>> = {
  BOOL: info(1, "boolContents", (n) => new Uint8Array(n)),
  UINT8: info(1, "uintContents", (n) => new Uint8Array(n)),
  UINT16: info(2, "uintContents", (n) => new Uint16Array(n)),
  UINT32: info(4, "uintContents", (n) => new Uint32Array(n)),
  UINT64: info(8, "uint64Contents", (n) => new BigUint64Array(n)),
  INT8: info(1, "intContents", (n) => new Int8Array(n)),
  INT16: info(2, "intContents", (n) => new Int16Array(n)),
  INT32: info(4, "intContents", (n) => new Int32Array(n)),
  INT64: info(8, "int64Contents", (n) => new BigInt64Array(n)),
  FP16: info(2, null, (n) => new Uint16Array(n)),
  BF16: info(2, null, (n) => new Uint16Array(n)),
  FP32: info(4, "fp32Contents", (n) => new Float32Array(n)),
  FP64: info(8, "fp64Contents", (n) => new Float64Array(n)),
  BYTES: info(0, "bytesContents", null),
};

export function isDatatype(value: string): value is Datatype {
  return Object.hasOwn(DATATYPE_INFO, value);
}

/** Inclusive range of integer datatypes, for validating JSON and typed contents. */
export const INTEGER_RANGE: Partial<Record<Datatype, readonly [bigint, bigint]>> = {
  UINT8: [0n, 255n],
  UINT16: [0n, 65535n],
  UINT32: [0n, 4294967295n],
  UINT64: [0n, 18446744073709551615n],
  INT8: [-128n, 127n],
  INT16: [-32768n, 32767n],
  INT32: [-2147483648n, 2147483647n],
  INT64: [-9223372036854775808n, 9223372036854775807n],
};

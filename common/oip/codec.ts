// OIP tensor payloads <-> decoded values. Raw contents are little-endian and
// row-major; BYTES elements each carry a 4-byte little-endian length prefix.
// Every decoder checks sizes against the declared element count and returns
// an Error (never throws on bad input) so callers can map it to their
// protocol's invalid-argument error, naming the tensor.
import type { InferTensorContents } from "../../gen/inference/grpc_service_pb.js";
import { DATATYPE_INFO, INTEGER_RANGE, type Datatype, type NumericArray, type TensorValues } from "./datatypes.js";

/** Decodes one `raw_input_contents`/`raw_output_contents` entry. */
export function decodeRaw(datatype: Datatype, raw: Uint8Array, count: number): TensorValues | Error {
  const { byteSize, allocate } = DATATYPE_INFO[datatype];
  if (allocate === null) return decodeRawBytes(raw, count);
  if (raw.byteLength !== count * byteSize) {
    return new Error(
      `raw contents hold ${raw.byteLength} bytes but shape needs ${count} × ${byteSize} = ${count * byteSize}`,
    );
  }
  const values = allocate(count);
  // Copy rather than view: protobuf hands out unaligned sub-arrays.
  new Uint8Array(values.buffer, values.byteOffset, values.byteLength).set(raw);
  if (datatype === "BOOL" && (values as Uint8Array).some((b) => b > 1)) {
    return new Error("BOOL raw contents must hold bytes 0 or 1");
  }
  return values;
}

/** What a BYTES raw contents entry holds, read from its length prefixes alone. */
export interface RawBytesScan {
  readonly elements: number;
  /** Element content bytes, length prefixes not counted. */
  readonly contentBytes: number;
}

/**
 * Walks the 4-byte length prefixes of a BYTES raw contents entry without
 * copying or allocating per element, so limits on element count and size can
 * be checked before any per-element work. Stops once more than `stopAfter`
 * elements are seen (the caller's limit, plus one to know it was exceeded).
 */
export function scanRawBytes(raw: Uint8Array, stopAfter = Number.MAX_SAFE_INTEGER): RawBytesScan | Error {
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  let elements = 0;
  let contentBytes = 0;
  let offset = 0;
  while (offset < raw.byteLength && elements <= stopAfter) {
    if (offset + 4 > raw.byteLength) return new Error("BYTES raw contents end inside a length prefix");
    const length = view.getUint32(offset, true);
    offset += 4;
    if (offset + length > raw.byteLength) return new Error("BYTES raw contents end inside an element");
    offset += length;
    elements++;
    contentBytes += length;
  }
  return { elements, contentBytes };
}

function decodeRawBytes(raw: Uint8Array, count: number): Uint8Array[] | Error {
  const scan = scanRawBytes(raw, count);
  if (scan instanceof Error) return scan;
  if (scan.elements !== count) return new Error(`BYTES raw contents hold ${scan.elements} elements but shape needs ${count}`);
  // One copy of the whole entry and a view per element, rather than a copy per
  // element: the cost follows the bytes, not the element count. The copy
  // detaches the values from the (possibly much larger) message buffer.
  const owned = raw.slice();
  const view = new DataView(owned.buffer);
  const items = new Array<Uint8Array>(count);
  let offset = 0;
  for (let i = 0; i < count; i++) {
    const length = view.getUint32(offset, true);
    items[i] = owned.subarray(offset + 4, offset + 4 + length);
    offset += 4 + length;
  }
  return items;
}

/** Encodes values as one raw contents entry. */
export function encodeRaw(values: TensorValues): Uint8Array {
  if (Array.isArray(values)) {
    const total = values.reduce((sum, item) => sum + 4 + item.byteLength, 0);
    const out = new Uint8Array(total);
    const view = new DataView(out.buffer);
    let offset = 0;
    for (const item of values) {
      view.setUint32(offset, item.byteLength, true);
      out.set(item, offset + 4);
      offset += 4 + item.byteLength;
    }
    return out;
  }
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}

/** Decodes typed (non-raw) contents, checking count and integer ranges. */
export function decodeContents(
  datatype: Datatype,
  contents: InferTensorContents | undefined,
  count: number,
): TensorValues | Error {
  const { contentsField, allocate } = DATATYPE_INFO[datatype];
  if (contentsField === null) return new Error(`${datatype} tensors must be sent as raw contents`);
  const source = (contents?.[contentsField] ?? []) as readonly (number | bigint | boolean | Uint8Array)[];
  if (source.length !== count) {
    return new Error(`contents hold ${source.length} elements but shape needs ${count}`);
  }
  if (allocate === null) return (source as Uint8Array[]).slice();
  const values = allocate(count);
  const range = INTEGER_RANGE[datatype];
  for (let i = 0; i < count; i++) {
    const v = source[i]!;
    if (range && (BigInt(v as number | bigint) < range[0] || BigInt(v as number | bigint) > range[1])) {
      return new Error(`element ${i} (${String(v)}) is out of range for ${datatype}`);
    }
    (values as { [i: number]: number | bigint })[i] = typeof v === "boolean" ? Number(v) : (v as number | bigint);
  }
  return values;
}

/** Byte size of decoded values, for limits. */
export function byteLengthOf(values: TensorValues): number {
  return Array.isArray(values) ? values.reduce((sum, item) => sum + item.byteLength, 0) : values.byteLength;
}

export type { NumericArray };

// The cache key: hex SHA-256 over a canonical byte encoding of everything
// that decides an inference result (ARCHITECTURE.md, "Cache key"):
//   model name, resolved version, inputs (name, datatype, shape, parameters,
//   tensor bytes), requested outputs (with parameters), request parameters.
// Left out on purpose: the request `id` (restored per caller on a hit) and
// request parameters that only steer scheduling or wire format.
//
// Equal requests must give equal bytes whatever protocol carried them, so:
//   - maps (parameters) are sorted by key; inputs and requested outputs are
//     sorted by name (the worker matches them by name, and a hit reorders
//     outputs to the caller's order);
//   - typed `contents` are written as the very bytes `raw_input_contents`
//     would hold (little-endian, row-major, BYTES with 4-byte length prefixes,
//     BOOL as 0/1), so a REST call (the adapter sends raw) and a Connect call
//     with typed contents of the same tensor share one entry.
// The encoder runs twice over the request: once to measure, once to write
// into a single buffer, so each tensor is copied exactly once.
import { DATATYPE_INFO, INTEGER_RANGE, elementCount, isDatatype, type Datatype } from "../../common/oip/index.js";
import type { InferParameter, ModelInferRequest } from "../../gen/inference/grpc_service_pb.js";
import type { Principal } from "../auth/types.js";
import type { ModelInfo } from "../catalogue/types.js";

/** Bumped when the encoding or the stored value format changes, so old entries are never read. */
export const KEY_VERSION = "v1";

/** Request parameters that do not change results (Triton scheduling hints, REST wire format). */
const IGNORED_REQUEST_PARAMETERS: ReadonlySet<string> = new Set(["priority", "timeout", "binary_data_output"]);

const MAGIC = "oip-infer\u0000";

/**
 * The full cache key: `cache:v1:<hex>` for public models, `cache:v1:t:<tenant>:<hex>`
 * for tenant-private ones. null when the request cannot be encoded
 * canonically, or only a request the worker refuses would have this form
 * (an out-of-range typed value, typed contents beside raw ones): such a
 * request is not cached and shares no flight, so it can never stand in for
 * a valid request that would encode the same.
 */
export async function cacheKey(principal: Principal, model: ModelInfo, request: ModelInferRequest): Promise<string | null> {
  const bytes = canonicalRequest(model, request);
  if (bytes === null) return null;
  // A fresh, non-shared buffer (the cast only satisfies stricter BufferSource typings).
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>));
  const scope = model.cachePublic ? "" : `t:${principal.tenant}:`;
  return `cache:${KEY_VERSION}:${scope}${toHex(digest)}`;
}

/** The canonical bytes hashed for the key; exported for tests. */
export function canonicalRequest(model: Pick<ModelInfo, "name" | "version">, request: ModelInferRequest): Uint8Array | null {
  const measure = new Writer(null);
  if (!encode(measure, model, request)) return null;
  const writer = new Writer(new Uint8Array(measure.offset));
  encode(writer, model, request);
  return writer.bytes!;
}

function encode(w: Writer, model: Pick<ModelInfo, "name" | "version">, request: ModelInferRequest): boolean {
  w.str(MAGIC);
  w.str(model.name);
  w.str(model.version);

  const raw = request.rawInputContents;
  const inputs = request.inputs.map((input, index) => ({ input, index }));
  if (inputs.length > 1) inputs.sort((a, b) => compare(a.input.name, b.input.name));
  w.u32(inputs.length);
  for (const { input, index } of inputs) {
    w.str(input.name);
    w.str(input.datatype);
    w.u32(input.shape.length);
    for (const dim of input.shape) w.i64(dim);
    w.params(input.parameters, null);
    if (!isDatatype(input.datatype)) return false;
    const count = elementCount(input.shape, Number.MAX_SAFE_INTEGER);
    if (count instanceof Error) return false;
    if (raw.length > 0) {
      const bytes = raw[index];
      // Typed contents beside raw ones (even an empty `contents {}`) are a
      // request the worker refuses; keyed like its valid twin, it could lead
      // that twin's flight or poison its entry, so it is not keyed at all.
      if (bytes === undefined || input.contents !== undefined) return false;
      w.blob(bytes);
    } else if (!w.typed(input.datatype, input.contents, count)) {
      return false;
    }
  }

  const outputs = request.outputs.length > 1 ? [...request.outputs].sort((a, b) => compare(a.name, b.name)) : request.outputs;
  w.u32(outputs.length);
  for (const output of outputs) {
    w.str(output.name);
    w.params(output.parameters, null);
  }
  w.params(request.parameters, IGNORED_REQUEST_PARAMETERS);
  return true;
}

/** Code-unit order: stable and locale-free. */
const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

const utf8 = new TextEncoder();

/** Measures (bytes === null) or writes the canonical encoding; little-endian throughout. */
class Writer {
  offset = 0;
  private readonly view: DataView | null;

  constructor(readonly bytes: Uint8Array | null) {
    this.view = bytes === null ? null : new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  u8(value: number): void {
    this.view?.setUint8(this.offset, value);
    this.offset += 1;
  }

  u32(value: number): void {
    this.view?.setUint32(this.offset, value, true);
    this.offset += 4;
  }

  i64(value: bigint): void {
    this.view?.setBigInt64(this.offset, BigInt.asIntN(64, value), true);
    this.offset += 8;
  }

  /** Length-prefixed UTF-8 (short strings: names, datatypes, parameter values). */
  str(value: string): void {
    const encoded = utf8.encode(value);
    this.u32(encoded.byteLength);
    this.bytes?.set(encoded, this.offset);
    this.offset += encoded.byteLength;
  }

  /** Tensor payload header: byte length, then padding to 8 so typed views line up. */
  private payload(byteLength: number): number {
    this.view?.setBigUint64(this.offset, BigInt(byteLength), true);
    this.offset += 8;
    this.offset = (this.offset + 7) & ~7;
    const start = this.offset;
    this.offset += byteLength;
    return start;
  }

  blob(data: Uint8Array): void {
    const start = this.payload(data.byteLength);
    this.bytes?.set(data, start);
  }

  /**
   * Typed contents written straight into the buffer as the raw bytes they
   * stand for; false when a value does not fit the datatype (the worker
   * rejects it, and wrapping could alias another request's key).
   */
  typed(datatype: Datatype, contents: ModelInferRequest["inputs"][number]["contents"], count: number): boolean {
    const { contentsField, byteSize, allocate } = DATATYPE_INFO[datatype];
    if (contentsField === null) return false;
    const source = (contents?.[contentsField] ?? []) as readonly (number | bigint | boolean | Uint8Array)[];
    if (source.length !== count) return false;

    if (allocate === null) {
      // BYTES: each element as <u32 length><bytes>, exactly like raw contents.
      let size = 0;
      for (const item of source as readonly Uint8Array[]) size += 4 + item.byteLength;
      let at = this.payload(size);
      if (this.bytes === null) return true;
      for (const item of source as readonly Uint8Array[]) {
        this.view!.setUint32(at, item.byteLength, true);
        this.bytes.set(item, at + 4);
        at += 4 + item.byteLength;
      }
      return true;
    }

    if (this.bytes === null && !inRange(datatype, source)) return false;
    const start = this.payload(count * byteSize);
    if (this.bytes === null) return true;
    // A typed view over the (8-aligned) destination: one conversion, no temporary array.
    const target = viewOf(datatype, this.bytes.buffer as ArrayBuffer, this.bytes.byteOffset + start, count);
    if (datatype === "BOOL") {
      for (let i = 0; i < count; i++) target[i] = source[i] ? 1 : 0;
    } else {
      for (let i = 0; i < count; i++) target[i] = source[i] as number & bigint;
    }
    return true;
  }

  /** Sorted `key -> typed value`, skipping `ignored` keys. */
  params(params: Readonly<Record<string, InferParameter>>, ignored: ReadonlySet<string> | null): void {
    let keys = Object.keys(params);
    if (ignored !== null) keys = keys.filter((key) => !ignored.has(key));
    if (keys.length > 1) keys.sort(compare);
    this.u32(keys.length);
    for (const key of keys) {
      this.str(key);
      const choice = params[key]!.parameterChoice;
      switch (choice.case) {
        case "boolParam":
          this.u8(1);
          this.u8(choice.value ? 1 : 0);
          break;
        case "int64Param":
          this.u8(2);
          this.i64(choice.value);
          break;
        case "stringParam":
          this.u8(3);
          this.str(choice.value);
          break;
        case "doubleParam":
          this.u8(4);
          this.view?.setFloat64(this.offset, choice.value, true);
          this.offset += 8;
          break;
        case "uint64Param":
          this.u8(5);
          this.i64(choice.value);
          break;
        default:
          this.u8(0);
      }
    }
  }
}

type Indexed = { [index: number]: number | bigint; readonly length: number };

function viewOf(datatype: Datatype, buffer: ArrayBuffer, offset: number, count: number): Indexed {
  switch (datatype) {
    case "BOOL":
    case "UINT8":
      return new Uint8Array(buffer, offset, count);
    case "INT8":
      return new Int8Array(buffer, offset, count);
    case "UINT16":
      return new Uint16Array(buffer, offset, count);
    case "INT16":
      return new Int16Array(buffer, offset, count);
    case "UINT32":
      return new Uint32Array(buffer, offset, count);
    case "INT32":
      return new Int32Array(buffer, offset, count);
    case "UINT64":
      return new BigUint64Array(buffer, offset, count);
    case "INT64":
      return new BigInt64Array(buffer, offset, count);
    case "FP32":
      return new Float32Array(buffer, offset, count);
    case "FP64":
      return new Float64Array(buffer, offset, count);
    default:
      // FP16/BF16/BYTES never reach here (no typed field, or handled above).
      throw new Error(`no typed view for ${datatype}`);
  }
}

/** Integer typed contents must fit their datatype; checked once, in the measuring pass. */
function inRange(datatype: Datatype, source: readonly (number | bigint | boolean | Uint8Array)[]): boolean {
  const range = INTEGER_RANGE[datatype];
  if (range === undefined) return true;
  if (datatype === "INT64" || datatype === "UINT64") {
    const [lo, hi] = range;
    for (const v of source as readonly bigint[]) if (v < lo || v > hi) return false;
    return true;
  }
  const lo = Number(range[0]);
  const hi = Number(range[1]);
  for (const v of source as readonly number[]) if (!Number.isInteger(v) || v < lo || v > hi) return false;
  return true;
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

function toHex(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) out += HEX[b];
  return out;
}

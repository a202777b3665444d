// Bounds on what one request may make the worker do, checked before the work:
// - the largest request body worth reading. A model with only fixed-size
//   inputs can never need more than max_batch_size rows of them, so the read
//   limit follows the models (plus room for names, shapes and framing)
//   instead of always allowing the hard cap. Variable numeric dims have no
//   bound and use the cap; BYTES inputs are bounded by MAX_BYTES_ELEMENTS and
//   MAX_BYTES_LENGTH.
// - BYTES work (MAX_BYTES_ELEMENTS, MAX_BYTES_LENGTH): onnxruntime-node takes
//   string tensors only as one JS string per element, so a few MiB of empty
//   strings mean millions of objects (seconds of a blocked event loop and
//   gigabytes of heap, measured). Counted from the length prefixes or the
//   already-parsed bytes_contents list, before any element is decoded.
import { Code, ConnectError } from "@connectrpc/connect";
import { DATATYPE_INFO, scanRawBytes, type Datatype } from "../../common/oip/index.js";
import type { ModelConfig } from "./config.js";

/** Tensor names, shapes, parameters and protobuf framing: generous for any sane request. */
export const MESSAGE_OVERHEAD_BYTES = 64 * 1024;

/** Per-request bounds on BYTES inputs, summed over every BYTES input of the request. */
export interface BytesLimits {
  /** MAX_BYTES_ELEMENTS: most BYTES elements. */
  readonly maxBytesElements: number;
  /** MAX_BYTES_LENGTH: most bytes of element content (length prefixes not counted). */
  readonly maxBytesLength: number;
}

export const UNBOUNDED_BYTES: BytesLimits = {
  maxBytesElements: Number.MAX_SAFE_INTEGER,
  maxBytesLength: Number.MAX_SAFE_INTEGER,
};

/**
 * Worst case on the wire per element: raw contents use the fixed size, but
 * typed integer contents are varints of up to 10 bytes (negative int32s).
 */
function wireBytesPerElement(datatype: Datatype): number {
  const { byteSize, contentsField } = DATATYPE_INFO[datatype];
  const varint = contentsField === "intContents" || contentsField === "int64Contents" || contentsField === "uintContents" || contentsField === "uint64Contents";
  return byteSize === 0 ? 0 : varint ? 10 : byteSize;
}

/**
 * Most wire bytes the BYTES inputs of one request can take within `bytes`:
 * the content plus, per element, a 4-byte raw prefix or a bytes_contents tag
 * and length varint (at most 6 bytes).
 */
function bytesWireLimit(bytes: BytesLimits): number {
  return bytes.maxBytesLength + 6 * bytes.maxBytesElements;
}

export function requestByteLimit(configs: readonly ModelConfig[], cap: number, bytes: BytesLimits = UNBOUNDED_BYTES): number {
  let limit = 0;
  for (const config of configs) {
    let rowBytes = 0;
    let hasBytes = false;
    for (const input of config.inputs) {
      if (input.datatype === "BYTES") {
        hasBytes = true;
        continue;
      }
      if (input.dims.includes(-1)) return cap;
      rowBytes += wireBytesPerElement(input.datatype) * input.dims.reduce((a, b) => a * b, 1);
    }
    const bytesPart = hasBytes ? bytesWireLimit(bytes) : 0;
    limit = Math.max(limit, Math.max(1, config.maxBatchSize) * rowBytes + bytesPart + MESSAGE_OVERHEAD_BYTES);
  }
  return Math.min(cap, limit || cap);
}

/**
 * Charges a request's BYTES inputs against BytesLimits, one input at a time,
 * before any element is decoded. Framing errors and count mismatches are left
 * to the decoder, which words them; this only refuses what is too much.
 */
export class BytesBudget {
  private elements = 0;
  private length = 0;

  constructor(private readonly limits: BytesLimits) {}

  /** `declared`: elements by the input's shape; `raw` or `typed`: its contents as sent. */
  charge(name: string, declared: number, raw: Uint8Array | undefined, typed: readonly Uint8Array[] | undefined): void {
    const { maxBytesElements, maxBytesLength } = this.limits;
    this.elements += declared;
    if (this.elements > maxBytesElements) {
      throw tooMuch(
        `input "${name}": the request's BYTES inputs hold more than ${maxBytesElements} elements in total (MAX_BYTES_ELEMENTS)`,
      );
    }
    let length = 0;
    if (raw !== undefined) {
      const scan = scanRawBytes(raw, declared);
      if (scan instanceof Error || scan.elements !== declared) return;
      length = scan.contentBytes;
    } else if (typed !== undefined && typed.length === declared) {
      for (const item of typed) length += item.byteLength;
    }
    this.length += length;
    if (this.length > maxBytesLength) {
      throw tooMuch(
        `input "${name}": the request's BYTES elements hold more than ${maxBytesLength} bytes in total (MAX_BYTES_LENGTH)`,
      );
    }
  }
}

// resource_exhausted, as gRPC answers a message over its size limit and as the
// edge answers MAX_TENSOR_ELEMENTS: the request is too large, not malformed.
const tooMuch = (message: string) => new ConnectError(`${message}; split it into smaller requests`, Code.ResourceExhausted);

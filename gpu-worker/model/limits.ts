// The largest request body worth reading. A model with only fixed-size
// inputs can never need more than max_batch_size rows of them, so the read
// limit follows the models (plus room for names, shapes and framing) instead
// of always allowing the hard cap. Variable dims and BYTES have no bound and
// use the cap.
import { DATATYPE_INFO, type Datatype } from "../../common/oip/index.js";
import type { ModelConfig } from "./config.js";

/** Tensor names, shapes, parameters and protobuf framing: generous for any sane request. */
export const MESSAGE_OVERHEAD_BYTES = 64 * 1024;

/**
 * Worst case on the wire per element: raw contents use the fixed size, but
 * typed integer contents are varints of up to 10 bytes (negative int32s).
 */
function wireBytesPerElement(datatype: Datatype): number {
  const { byteSize, contentsField } = DATATYPE_INFO[datatype];
  const varint = contentsField === "intContents" || contentsField === "int64Contents" || contentsField === "uintContents" || contentsField === "uint64Contents";
  return byteSize === 0 ? 0 : varint ? 10 : byteSize;
}

export function requestByteLimit(configs: readonly ModelConfig[], cap: number): number {
  let limit = 0;
  for (const config of configs) {
    let rowBytes = 0;
    for (const input of config.inputs) {
      const byteSize = wireBytesPerElement(input.datatype);
      if (byteSize === 0 || input.dims.includes(-1)) return cap;
      rowBytes += byteSize * input.dims.reduce((a, b) => a * b, 1);
    }
    limit = Math.max(limit, Math.max(1, config.maxBatchSize) * rowBytes + MESSAGE_OVERHEAD_BYTES);
  }
  return Math.min(cap, limit || cap);
}

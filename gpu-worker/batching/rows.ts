// Merging requests along the batch dimension and handing each caller back
// exactly its own rows.
import { Code, ConnectError } from "@connectrpc/connect";
import { DATATYPE_INFO, type NumericArray, type TensorValues } from "../../common/oip/index.js";
import type { Tensor } from "../model/tensors.js";

/** Requests can share a batch only when every input agrees on datatype and all non-batch dims. */
export function batchKey(inputs: readonly Tensor[]): string {
  return inputs.map((t) => `${t.name}:${t.datatype}:${t.shape.slice(1).join("x")}`).join("|");
}

/** Concatenates each input across requests along dim 0. All parts must share a batchKey. */
export function concatRows(parts: readonly (readonly Tensor[])[]): Tensor[] {
  const first = parts[0]!;
  if (parts.length === 1) return [...first];
  return first.map((tensor, i) => {
    const pieces = parts.map((p) => p[i]!);
    const rows = pieces.reduce((sum, t) => sum + t.shape[0]!, 0);
    return { ...tensor, shape: [rows, ...tensor.shape.slice(1)], values: concatValues(tensor, pieces) };
  });
}

function concatValues(first: Tensor, pieces: readonly Tensor[]): TensorValues {
  const allocate = DATATYPE_INFO[first.datatype].allocate;
  if (allocate === null) return pieces.flatMap((t) => t.values as Uint8Array[]);
  const total = pieces.reduce((sum, t) => sum + t.values.length, 0);
  const out = allocate(total);
  let offset = 0;
  for (const piece of pieces) {
    (out as Uint8Array).set(piece.values as Uint8Array, offset);
    offset += piece.values.length;
  }
  return out;
}

/**
 * Splits batch outputs into one list per caller, `rowCounts[i]` rows each,
 * as views (no copies) into the batch result.
 */
export function splitRows(outputs: readonly Tensor[], rowCounts: readonly number[]): Tensor[][] {
  const total = rowCounts.reduce((a, b) => a + b, 0);
  if (rowCounts.length === 1) return [[...outputs]];
  for (const output of outputs) {
    if (output.shape[0] !== total) {
      throw new ConnectError(
        `output "${output.name}" has ${String(output.shape[0])} rows for a batch of ${total}; the model does not keep the batch dimension`,
        Code.Internal,
      );
    }
  }
  let start = 0;
  return rowCounts.map((rows) => {
    const slice = outputs.map((output) => {
      const perRow = output.values.length / total;
      const from = start * perRow;
      const to = from + rows * perRow;
      const values = Array.isArray(output.values)
        ? output.values.slice(from, to)
        : (output.values as NumericArray).subarray(from, to);
      return { ...output, shape: [rows, ...output.shape.slice(1)], values };
    });
    start += rows;
    return slice;
  });
}

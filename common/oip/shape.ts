// Shape arithmetic that guards against overflow: shapes arrive from
// untrusted clients as int64.

/** Element count of a shape, or an Error naming the problem. */
export function elementCount(shape: readonly (number | bigint)[], limit = Number.MAX_SAFE_INTEGER): number | Error {
  let count = 1;
  for (const dim of shape) {
    const d = Number(dim);
    if (!Number.isSafeInteger(d) || d < 0) {
      return new Error(`dimension ${String(dim)} is not a non-negative integer`);
    }
    count *= d;
    if (count > limit) return new Error(`shape [${shape.join(", ")}] has more than ${limit} elements`);
  }
  return count;
}

export function formatShape(shape: readonly (number | bigint)[]): string {
  return `[${shape.join(", ")}]`;
}

// Reads a REST request body as JSON. JSON numbers are doubles, so INT64 /
// UINT64 values beyond 2^53 would silently change; where the runtime offers
// the source text of numbers to a reviver (workerd's V8 does; Node 20 does
// not), integer literals beyond the safe range become bigints with their
// exact digits. The reviver is slow, so it only runs when the text holds a
// digit run long enough to need it.
import { GatewayError } from "../errors.js";
import { Code } from "@connectrpc/connect";

const LONG_DIGITS = /\d{16}/;
const INTEGER_LITERAL = /^-?\d+$/;

export function parseJsonBody(text: string): unknown {
  try {
    if (!LONG_DIGITS.test(text)) return JSON.parse(text);
    return JSON.parse(text, exactIntegers);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new GatewayError(Code.InvalidArgument, `request body is not valid JSON: ${detail}`);
  }
}

function exactIntegers(this: unknown, _key: string, value: unknown, context?: { source?: string }): unknown {
  if (typeof value === "number" && !Number.isSafeInteger(value) && context?.source !== undefined && INTEGER_LITERAL.test(context.source)) {
    return BigInt(context.source);
  }
  return value;
}

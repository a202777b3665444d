// Reads a REST request body as JSON. JSON numbers are doubles, so INT64 /
// UINT64 values beyond 2^53 would silently change; where the runtime offers
// the source text of numbers to a reviver (workerd's V8 does; Node 20 does
// not), integer literals beyond the safe range become bigints with their
// exact digits. The reviver is slow, so it only runs when the text holds a
// digit run long enough to need it.
import { Code } from "@connectrpc/connect";
import { GatewayError, invalidArgument } from "../errors.js";
import { MAX_JSON_DEPTH, jsonTextTooDeep, quote, tooDeepMessage } from "./json-limits.js";
import { discardBody } from "../http/discard-body.js";

const LONG_DIGITS = /\d{16}/;
const INTEGER_LITERAL = /^-?\d+$/;
// application/json, and structured +json types (application/vnd.x+json).
const JSON_MEDIA_TYPE = /^application\/(?:[\w.-]+\+)?json$/;

/**
 * The body of a REST POST as parsed JSON. The content type must say JSON:
 * a body sent as text/plain, a form or protobuf is refused with 415 rather
 * than guessed at. A request without a content type is read as JSON, as
 * OIP defines the body and Triton/KServe clients do not all send one.
 */
export async function readJsonBody(request: Request): Promise<unknown> {
  const contentType = request.headers.get("content-type");
  if (contentType !== null) {
    const mediaType = contentType.split(";", 1)[0]!.trim().toLowerCase();
    if (!JSON_MEDIA_TYPE.test(mediaType)) {
      await discardBody(request);
      throw unsupportedMediaType(mediaType);
    }
  }
  return parseJsonBody(await request.text());
}

export function parseJsonBody(text: string): unknown {
  // Before parsing: deep nesting costs JSON.parse super-linear time and
  // overflows the reviver (see json-limits.ts).
  if (jsonTextTooDeep(text, MAX_JSON_DEPTH)) throw invalidArgument(tooDeepMessage("the request body"));
  try {
    if (!LONG_DIGITS.test(text)) return JSON.parse(text);
    return JSON.parse(text, exactIntegers);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new GatewayError(Code.InvalidArgument, `request body is not valid JSON: ${detail}`);
  }
}

function unsupportedMediaType(mediaType: string): GatewayError {
  const named = mediaType === "" ? "an empty content-type" : `content-type ${quote(mediaType)}`;
  return new GatewayError(
    Code.InvalidArgument,
    `${named} is not accepted here: send the body as JSON with "content-type: application/json" ` +
      `(curl: -H 'content-type: application/json'); binary tensors go over Connect or gRPC-Web`,
    { httpStatus: 415 },
  );
}

function exactIntegers(this: unknown, _key: string, value: unknown, context?: { source?: string }): unknown {
  if (typeof value === "number" && !Number.isSafeInteger(value) && context?.source !== undefined && INTEGER_LITERAL.test(context.source)) {
    return BigInt(context.source);
  }
  return value;
}

// Turns a node-redis reply (RESP2, strings mapped to Buffers) into the JSON
// value Upstash's REST protocol puts under "result".
//
// With `Upstash-Encoding: base64` (what @upstash/redis sends by default) every
// string, top-level or nested in arrays, is base64 of its raw bytes: the client
// base64-decodes each string it finds (only a bare "OK" is left alone, and the
// base64 of any value never equals "OK", so encoding it too is harmless).
// Integers and nil are never encoded: the client passes numbers and null
// through untouched. Without the header strings go out as UTF-8 text, as
// hosted Upstash does (binary values are then lossy, which is why the client
// asks for base64).
import { ErrorReply } from "redis";

export type Encoding = "base64" | "utf8";
export type JsonReply = string | number | null | JsonReply[];

export function encodeReply(reply: unknown, encoding: Encoding): JsonReply {
  if (reply === null || reply === undefined) return null;
  if (Buffer.isBuffer(reply)) return reply.toString(encoding === "base64" ? "base64" : "utf8");
  if (typeof reply === "number") return reply;
  // A nested error (a Lua table holding a redis.error_reply) has no JSON form in
  // the protocol; its message as a string is the least surprising stand-in.
  if (reply instanceof ErrorReply) return encodeReply(Buffer.from(reply.message), encoding);
  if (Array.isArray(reply)) return reply.map((item) => encodeReply(item, encoding));
  if (typeof reply === "string") return encodeReply(Buffer.from(reply), encoding);
  // RESP2 yields nothing else; bigint/boolean only appear under other mappings.
  return encodeReply(Buffer.from(String(reply)), encoding);
}

/** The encoding a request asked for (header names are case-insensitive). */
export function requestedEncoding(header: string | string[] | undefined): Encoding {
  const value = Array.isArray(header) ? header[0] : header;
  return value?.trim().toLowerCase() === "base64" ? "base64" : "utf8";
}

// connect-es refuses some malformed requests itself, inside the protocol
// handler and before any of our code runs, and words a few of them as the
// server's fault or in its own internal terms:
//   - a binary body that is not a protobuf message: `internal` "parse binary: ...";
//   - an envelope with the compressed flag (or an unknown flag) but no
//     grpc-encoding: `internal` "received compressed envelope, but do not know how to decompress";
//   - an envelope announcing more than the read limit (4 GiB in one header):
//     `resource_exhausted` "... larger than configured readMaxBytes N";
//   - a unary call with no message or two: `unimplemented` "protocol error: ...".
// All are the client's mistake. The parsers and their messages cannot be
// swapped, so the one clean seam is the handler's response: on the error
// path only (a Connect JSON error, or a gRPC-Web body that is a lone trailer
// frame), a known message is rewritten to the right code and a message that
// says what to fix. The success path is untouched. Tests pin each rule
// against connect-es upgrades (a rule that stops matching fails them).
import { Code, ConnectError } from "@connectrpc/connect";
import type { UniversalServerResponse } from "@connectrpc/connect/protocol";
import { errorFromJsonBytes, errorToJsonBytes } from "@connectrpc/connect/protocol-connect";
import { trailerFlag, trailerParse, trailerSerialize } from "@connectrpc/connect/protocol-grpc-web";

interface Rewritten {
  readonly code: Code;
  readonly message: string;
  /** HTTP status for the Connect protocol (gRPC-Web always answers 200). */
  readonly status: number;
}

type Rule = (code: Code, message: string) => Rewritten | undefined;

export interface ClientFaultOptions {
  /** MAX_BODY_BYTES, the public name of connect-es's readMaxBytes here. */
  readonly maxBodyBytes: number;
}

function rules({ maxBodyBytes }: ClientFaultOptions): Rule[] {
  return [
    (code, message) =>
      code === Code.Internal && message.startsWith("parse binary:")
        ? { code: Code.InvalidArgument, status: 400, message: `request body is not a valid protobuf message (${message})` }
        : undefined,
    (code, message) =>
      code === Code.Internal && message.startsWith("received compressed envelope")
        ? {
            code: Code.InvalidArgument,
            status: 400,
            message:
              "a message envelope has the compressed flag (or an unknown flag) set, but the request names no encoding; this gateway takes uncompressed messages only: send flags 0",
          }
        : undefined,
    (code, message) => {
      const size = code === Code.ResourceExhausted ? /^message size (\d+) is larger than configured readMaxBytes/.exec(message) : null;
      return size === null
        ? undefined
        : { code: Code.ResourceExhausted, status: 413, message: `request message of ${size[1]} bytes exceeds ${maxBodyBytes} bytes (MAX_BODY_BYTES)` };
    },
    (code, message) => {
      const count = code === Code.Unimplemented ? /^protocol error: (missing|received extra) input message for unary method/.exec(message) : null;
      return count === null
        ? undefined
        : {
            code: Code.InvalidArgument,
            status: 400,
            message: `a unary call takes exactly one request message, and the body held ${count[1] === "missing" ? "none" : "more than one"}`,
          };
    },
  ];
}

/** Rewrites connect-es's own refusals of malformed input (see above) on a handler's error response. */
export function createClientFaultRewriter(options: ClientFaultOptions) {
  const table = rules(options);
  const rewrite = (code: Code, message: string): Rewritten | undefined => {
    for (const rule of table) {
      const result = rule(code, message);
      if (result !== undefined) return result;
    }
    return undefined;
  };

  return async function clientFaults(res: UniversalServerResponse): Promise<UniversalServerResponse> {
    if (res.body === undefined) return res;
    const contentType = res.header?.get("content-type") ?? "";
    if (contentType.startsWith("application/grpc-web")) return rewriteGrpcWeb(res, rewrite);
    if (res.status < 400 || !contentType.startsWith("application/json")) return res;
    const bytes = await collect(res.body as AsyncIterable<Uint8Array>);
    const error = errorFromJsonBytes(bytes, undefined, new ConnectError("internal error", Code.Internal));
    const fixed = rewrite(error.code, error.rawMessage);
    if (fixed === undefined) return { ...res, body: single(bytes) };
    const body = errorToJsonBytes(new ConnectError(fixed.message, fixed.code), {});
    const header = new Headers(res.header);
    header.set("content-length", String(body.byteLength));
    return { ...res, status: fixed.status, header, body: single(body) };
  };
}

function rewriteGrpcWeb(res: UniversalServerResponse, rewrite: (code: Code, message: string) => Rewritten | undefined): UniversalServerResponse {
  const body = res.body as AsyncIterable<Uint8Array>;
  return {
    ...res,
    body: (async function* () {
      const it = body[Symbol.asyncIterator]();
      const first = await it.next();
      if (first.done) return;
      yield fixTrailerFrame(first.value, rewrite);
      for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
    })(),
  };
}

/** A chunk that is exactly one trailer frame (an error before any message) gets its status and message rewritten. */
function fixTrailerFrame(chunk: Uint8Array, rewrite: (code: Code, message: string) => Rewritten | undefined): Uint8Array {
  if (chunk.byteLength < 5 || chunk[0] !== trailerFlag) return chunk;
  const length = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength).getUint32(1);
  if (chunk.byteLength !== 5 + length) return chunk;
  const trailer = trailerParse(chunk.subarray(5));
  const code = Number(trailer.get("grpc-status") ?? "") as Code;
  const fixed = rewrite(code, decodeURIComponent(trailer.get("grpc-message") ?? ""));
  if (fixed === undefined) return chunk;
  trailer.set("grpc-status", String(fixed.code));
  trailer.set("grpc-message", encodeURIComponent(fixed.message));
  const data = trailerSerialize(trailer);
  const out = new Uint8Array(5 + data.byteLength);
  out[0] = trailerFlag;
  new DataView(out.buffer).setUint32(1, data.byteLength);
  out.set(data, 5);
  return out;
}

async function collect(body: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of body) {
    chunks.push(chunk);
    size += chunk.byteLength;
  }
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

async function* single(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  yield bytes;
}

// Admits request bodies before anything parses them:
//  - compressed bodies are refused (Content-Encoding for REST, GraphQL and
//    Connect unary; Connect-Content-Encoding and grpc-encoding for streamed
//    and gRPC-Web messages). The edge decompresses nothing: a decompressed
//    size cannot be bounded by MAX_BODY_BYTES before the work is done (a
//    gzip bomb), and requests are small next to their answers. The client's
//    mistake, so a 4xx saying what to send: REST 415 with Accept-Encoding
//    (RFC 9110 §15.5.16), Connect `unimplemented` as its spec asks for an
//    unsupported encoding (HTTP 415, not the code's usual 501: the fault is
//    the request's), gRPC-Web grpc-status 12 with grpc-accept-encoding;
//  - bodies over MAX_BODY_BYTES are refused by Content-Length up front, and
//    by counting for chunked bodies. REST gets {"error"} with 413;
//    Connect/gRPC-Web get resource_exhausted in their own format (see
//    connect/error-response.ts for the status choice).
import { Code } from "@connectrpc/connect";
import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { EdgeConfig } from "../config.js";
import { CONNECT_PREFIX } from "../connect/handler.js";
import { toConnectResponse } from "../connect/error-response.js";
import { GatewayError, toRestResponse } from "../errors.js";
import type { AppEnv } from "./types.js";

/** Request headers that name a compression; "identity" (or none) is the only one accepted. */
const ENCODING_HEADERS = ["content-encoding", "connect-content-encoding", "grpc-encoding"] as const;

export function createBodyLimit(config: Pick<EdgeConfig, "maxBodyBytes">): MiddlewareHandler<AppEnv> {
  const error = new GatewayError(
    Code.ResourceExhausted,
    `request body exceeds ${config.maxBodyBytes} bytes (MAX_BODY_BYTES)`,
    { httpStatus: 413 },
  );
  const answer = (request: Request, path: string, failure: GatewayError): Response =>
    path.startsWith(CONNECT_PREFIX) ? toConnectResponse(failure, request) : toRestResponse(failure);
  const limit = bodyLimit({ maxSize: config.maxBodyBytes, onError: (c) => answer(c.req.raw, c.req.path, error) });

  return async (c, next) => {
    const compressed = compressionOf(c.req.raw.headers);
    if (compressed !== undefined) return answer(c.req.raw, c.req.path, compressed);
    return limit(c, next);
  };
}

function compressionOf(headers: Headers): GatewayError | undefined {
  for (const name of ENCODING_HEADERS) {
    const value = headers.get(name)?.trim().toLowerCase();
    if (value === undefined || value === "" || value === "identity") continue;
    return new GatewayError(
      Code.Unimplemented,
      `${name} "${value.slice(0, 40)}" is not accepted: this gateway takes uncompressed requests only (identity); send the body without ${name}`,
      { httpStatus: 415, headers: { "accept-encoding": "identity", "grpc-accept-encoding": "identity" } },
    );
  }
  return undefined;
}

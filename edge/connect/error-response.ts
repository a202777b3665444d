// Connect-shaped error responses for failures that happen before connect-es
// sees the request (body over the limit, edge misconfigured).
//  - Connect protocol: the code's HTTP status (or the error's override, e.g.
//    413: truthful for proxies and HTTP tooling; Connect clients read the
//    code from the JSON body either way) + {"code","message"}.
//  - gRPC-Web: the protocol carries errors in grpc-status, so HTTP 200 with
//    a trailers-only response (status in the headers).
import { errorToJsonBytes } from "@connectrpc/connect/protocol-connect";
import { headerGrpcMessage, headerGrpcStatus } from "@connectrpc/connect/protocol-grpc-web";
import type { GatewayError } from "../errors.js";
import { errorHeaders, toConnectError } from "../errors.js";

export function isGrpcWeb(request: Request): boolean {
  return (request.headers.get("content-type") ?? "").startsWith("application/grpc-web");
}

export function toConnectResponse(error: GatewayError, request: Request): Response {
  const headers = new Headers(errorHeaders(error));
  if (isGrpcWeb(request)) {
    headers.set("content-type", request.headers.get("content-type") ?? "application/grpc-web+proto");
    headers.set(headerGrpcStatus, String(error.code));
    headers.set(headerGrpcMessage, encodeURIComponent(error.message));
    return new Response(null, { status: 200, headers });
  }
  headers.set("content-type", "application/json");
  return new Response(errorToJsonBytes(toConnectError(error), {}), { status: error.httpStatus, headers });
}

// Serves GRPCInferenceService for the Connect protocol (JSON and binary) and
// gRPC-Web inside Hono. The router and its per-method handlers are built once
// per isolate; a request only costs a map lookup before connect-es runs.
// The gRPC protocol itself is off: it needs HTTP trailers, which a Worker
// cannot send.
import { Code, ConnectError, createConnectRouter, createContextValues, type ConnectRouter } from "@connectrpc/connect";
import {
  universalServerRequestFromFetch,
  universalServerResponseToFetch,
  type UniversalHandler,
} from "@connectrpc/connect/protocol";
import { errorToJsonBytes } from "@connectrpc/connect/protocol-connect";
import { GRPCInferenceService } from "../../gen/inference/grpc_service_pb.js";
import type { EdgeConfig } from "../config.js";
import type { Pipeline } from "../pipeline/index.js";
import type { RequestScope } from "../pipeline/context.js";
import { createClientFaultRewriter } from "./client-faults.js";
import { scopeKey } from "./scope.js";
import { createInferenceService } from "./service.js";

/** Path prefix of every RPC: "/inference.GRPCInferenceService/". */
export const CONNECT_PREFIX = `/${GRPCInferenceService.typeName}/`;

const GRPC_WEB_TEXT = /^application\/grpc-web-text/i;

export type ConnectHandler = (request: Request, scope: RequestScope) => Promise<Response>;

export function createConnectHandler(
  pipeline: Pipeline,
  config: Pick<EdgeConfig, "requestTimeoutMs" | "maxBodyBytes">,
): ConnectHandler {
  const router: ConnectRouter = createConnectRouter({
    grpc: false,
    grpcWeb: true,
    connect: true,
    readMaxBytes: config.maxBodyBytes,
    // maxTimeoutMs stays unlimited: a longer client deadline is not an error,
    // the pipeline simply caps it at REQUEST_TIMEOUT_MS.
  });
  router.service(GRPCInferenceService, createInferenceService(pipeline, config));
  const handlers = new Map<string, UniversalHandler>(router.handlers.map((h) => [h.requestPath, h]));
  const clientFaults = createClientFaultRewriter(config);

  return async (request, scope) => {
    const url = new URL(request.url);
    const handler = handlers.get(url.pathname);
    if (handler === undefined) {
      return connectJson(new ConnectError(`no such method ${url.pathname}`, Code.Unimplemented), 404);
    }
    if (!handler.allowedMethods.includes(request.method)) {
      const allow = handler.allowedMethods.join(", ");
      const error = new ConnectError(`${request.method} is not allowed for ${url.pathname}: use ${allow}`, Code.InvalidArgument);
      return connectJson(error, 405, { allow });
    }
    const contentType = request.headers.get("content-type") ?? "";
    // connect-es matches gRPC-Web's base64 "-text" variant but then answers it
    // with an empty 415; it is refused here like any other, with a message.
    if (!handler.supportedContentType(contentType) || GRPC_WEB_TEXT.test(contentType)) {
      const error = new ConnectError(
        `content-type "${contentType.slice(0, 100)}" is not served here: send application/proto or application/json (Connect), or application/grpc-web+proto or application/grpc-web+json (gRPC-Web)`,
        Code.InvalidArgument,
      );
      return connectJson(error, 415);
    }
    const universal = {
      ...universalServerRequestFromFetch(request, {}),
      contextValues: createContextValues().set(scopeKey, scope),
    };
    const response = await handler(universal);
    return universalServerResponseToFetch(await clientFaults(response));
  };
}

function connectJson(error: ConnectError, status: number, headers: Record<string, string> = {}): Response {
  return new Response(errorToJsonBytes(error, {}), { status, headers: { ...headers, "content-type": "application/json" } });
}

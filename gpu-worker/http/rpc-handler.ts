// The RPC side of the worker's port: connect-node's Node adapter
// (connectNodeAdapter) taken apart, because the worker must act at points it
// does not expose:
// - before the body is read: the token check (a caller without the token
//   never makes the worker buffer, inflate or parse anything);
// - while building the call: a request connect cannot describe (no
//   authority, a Host that is no URL) is a 400, where connect-node throws out
//   of the request listener and ends the process;
// - while reading: stopping early leaves the request open, and the body has a
//   deadline (request-body.ts);
// - on the answer: connect's misfiled client faults become invalid_argument
//   (client-faults.ts).
// Routing, the protocols and the wire format stay connect's.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";
import { Code, ConnectError, createConnectRouter, type ConnectRouter, type ConnectRouterOptions, type ContextValues } from "@connectrpc/connect";
import { compressionBrotli, compressionGzip, universalRequestFromNodeRequest, universalResponseToNodeResponse } from "@connectrpc/connect-node";
import type { UniversalHandler, UniversalServerResponse } from "@connectrpc/connect/protocol";
import { log } from "../log.js";
import { reclassifyClientFaults } from "./client-faults.js";
import { errorResponse, wireProtocolOf } from "./error-answer.js";
import { requestBody } from "./request-body.js";

export type NodeRequest = IncomingMessage | Http2ServerRequest;
export type NodeResponse = ServerResponse | Http2ServerResponse;
export type RequestHandler = (req: NodeRequest, res: NodeResponse) => void;

export interface RpcHandlerOptions extends ConnectRouterOptions {
  routes(router: ConnectRouter): void;
  /** Runs on the headers alone; an error answers the call at once and the body is never read. */
  admit?(service: string, req: NodeRequest): ConnectError | undefined;
  /** Per-call context values (connect-node's `contextValues`). */
  contextValues?(req: NodeRequest): ContextValues;
  /** Requests for paths that are no RPC. */
  fallback: RequestHandler;
  /** Time the whole request body may take to arrive. */
  bodyDeadlineMs: number;
}

export function rpcHandler(options: RpcHandlerOptions): RequestHandler {
  const router = createConnectRouter({ acceptCompression: [compressionGzip, compressionBrotli], ...options });
  options.routes(router);
  const handlers = new Map<string, UniversalHandler>(router.handlers.map((h) => [h.requestPath, h]));

  return (req, res) => {
    const handler = handlers.get((req.url ?? "").split("?", 1)[0]!);
    if (handler === undefined) return options.fallback(req, res);
    const protocol = wireProtocolOf(req.headers["content-type"]);
    const write = (response: UniversalServerResponse) =>
      universalResponseToNodeResponse(response, res).catch((reason: unknown) => answerFailed(handler, res, reason));

    const refusal = options.admit?.(handler.service.typeName, req);
    if (refusal !== undefined) return void write(errorResponse(protocol, refusal));
    let call;
    try {
      call = universalRequestFromNodeRequest(req, res, undefined, options.contextValues?.(req));
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      return void write(errorResponse(protocol, new ConnectError(`the request has no usable authority (Host or :authority): ${reason}`, Code.InvalidArgument)));
    }
    handler({ ...call, body: requestBody(req, options.bodyDeadlineMs) })
      .then((response) => reclassifyClientFaults(protocol, response))
      .then(write, (reason: unknown) => {
        // connect answers every error it knows of itself; a handler that fails outright is a bug, still answered.
        log.error(`${handler.service.typeName}/${handler.method.name} failed: ${reason instanceof Error ? (reason.stack ?? reason.message) : String(reason)}`);
        return res.headersSent ? answerFailed(handler, res, reason) : write(errorResponse(protocol, new ConnectError("internal error", Code.Internal)));
      });
  };
}

/** Writing the answer failed: the caller is gone or the connection broke. Nothing to tell anyone but the log. */
function answerFailed(handler: UniversalHandler, res: NodeResponse, reason: unknown): void {
  const error = ConnectError.from(reason);
  if (error.code !== Code.Aborted && error.code !== Code.Canceled) {
    log.debug(`answer to ${handler.service.typeName}/${handler.method.name} not delivered: ${error.message}`);
  }
  if (!res.writableEnded) res.destroy();
}

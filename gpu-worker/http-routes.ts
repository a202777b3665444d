// Plain HTTP routes beside the RPCs on the same port: Prometheus scraping and
// the OIP health probes. Open without the worker token, like grpc.health.v1.
import type { Registry } from "prom-client";
import type { NodeResponse, RequestHandler } from "./http/rpc-handler.js";
import type { ServingState } from "./state.js";

export type { RequestHandler } from "./http/rpc-handler.js";

export function plainRoutes(state: ServingState, registry: Registry): RequestHandler {
  const json = (res: NodeResponse, status: number, body: unknown) => {
    // /metrics answers after an await, by when the caller may have gone: a
    // write to a closed HTTP/2 stream throws, and nothing here may throw.
    if (res.headersSent || res.writableEnded || res.destroyed) return;
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  };
  return (req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method !== "GET" && req.method !== "HEAD") return json(res, 404, { error: `no route for ${req.method} ${path}` });
    switch (path) {
      case "/metrics":
        registry.metrics().then(
          (text) => {
            if (res.headersSent || res.writableEnded || res.destroyed) return;
            res.writeHead(200, { "content-type": registry.contentType });
            res.end(text);
          },
          (error: unknown) => json(res, 500, { error: `metrics collection failed: ${String(error)}` }),
        );
        return;
      case "/v2/health/live":
        return json(res, 200, { live: true });
      case "/v2/health/ready":
        return json(res, state.ready ? 200 : 503, { ready: state.ready });
      default:
        return json(res, 404, { error: `no route for GET ${path}` });
    }
  };
}

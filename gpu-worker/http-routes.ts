// Plain HTTP routes beside the RPCs on the same port: Prometheus scraping and
// the OIP health probes. Open without the worker token, like grpc.health.v1.
import type { ConnectNodeAdapterOptions } from "@connectrpc/connect-node";
import type { Registry } from "prom-client";
import type { ServingState } from "./state.js";

/** A request handler for both the HTTP/1.1 and the HTTP/2 server, as connect-node's adapter is one. */
export type RequestHandler = NonNullable<ConnectNodeAdapterOptions["fallback"]>;

export function plainRoutes(state: ServingState, registry: Registry): RequestHandler {
  const json = (res: Parameters<RequestHandler>[1], status: number, body: unknown) => {
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

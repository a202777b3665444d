// The edge Worker: wiring only. Middleware order matters:
//   1. request scope (id + Server-Timing) wraps everything, errors included;
//   2. runtime lookup (config parsed once per isolate; a bad config fails here);
//   3. CORS, so even rejected requests carry CORS headers a browser can read;
//   4. body limit, before any adapter reads a body;
//   5. adapters: Connect/gRPC-Web under /inference.GRPCInferenceService/*, GraphQL at /graphql, REST under /v2.
import { Code } from "@connectrpc/connect";
import { Hono } from "hono";
import { CONNECT_PREFIX } from "./connect/handler.js";
import { toConnectResponse } from "./connect/error-response.js";
import { GRAPHQL_PATH } from "./graphql/handler.js";
import { GatewayError, isUnexpected, toGatewayError, toRestResponse } from "./errors.js";
import { requestScope } from "./http/request-scope.js";
import type { AppEnv } from "./http/types.js";
import { describe, log } from "./log.js";
import { restRoutes } from "./rest/routes.js";
import { runtimeFor, type RuntimeOptions } from "./runtime.js";

export type { Env } from "./env.js";

/** Builds the app; tests pass a fake `fetch` to stand in for the workers. */
export function createApp(options: RuntimeOptions = {}): Hono<AppEnv> {
  const runtime = runtimeFor(options);
  const app = new Hono<AppEnv>();

  app.use(requestScope());
  app.use(async (c, next) => {
    c.set("runtime", runtime(c.env));
    await next();
  });
  app.use((c, next) => c.var.runtime.cors(c, next));
  app.use((c, next) => c.var.runtime.bodyLimit(c, next));

  app.all(`${CONNECT_PREFIX}*`, (c) => c.var.runtime.connect(c.req.raw, c.var.scope));
  app.all(GRAPHQL_PATH, (c) => c.var.runtime.graphql(c.req.raw, c.var.scope));
  app.route("/", restRoutes());

  app.notFound((c) =>
    toRestResponse(new GatewayError(Code.NotFound, `no route for ${c.req.method} ${c.req.path}`)),
  );

  app.onError((error, c) => {
    const gatewayError = toGatewayError(error);
    const requestId = c.get("scope")?.requestId;
    if (isUnexpected(error)) log("error", "unexpected error", { requestId, error: describe(error) });
    else if (gatewayError.code === Code.Internal) log("error", gatewayError.message, { requestId });
    return c.req.path.startsWith(CONNECT_PREFIX) ? toConnectResponse(gatewayError, c.req.raw) : toRestResponse(gatewayError);
  });

  return app;
}

export default createApp();

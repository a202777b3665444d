// What an isolate builds once from its config: upstream clients, pipeline,
// Connect router, CORS and body-limit middleware. Requests only look it up
// (by env object identity, like the config itself).
import type { MiddlewareHandler } from "hono";
import { getConfig, type EdgeConfig } from "./config.js";
import { createConnectHandler, type ConnectHandler } from "./connect/handler.js";
import { createGraphqlHandler, type GraphqlHandler } from "./graphql/handler.js";
import type { Env } from "./env.js";
import { createBodyLimit } from "./http/body-limit.js";
import { createCors } from "./http/cors.js";
import type { AppEnv } from "./http/types.js";
import { createPipeline, type Pipeline } from "./pipeline/index.js";
import { createUpstream, type UpstreamOptions } from "./upstream/client.js";
import { createEdgeAuthenticator } from "./auth/index.js";
import { createInferenceCache } from "./cache/index.js";
import { createCatalogue } from "./catalogue/catalogue.js";
import { createEdgeRateLimiter } from "./rate-limit/index.js";

export interface Runtime {
  readonly config: EdgeConfig;
  readonly pipeline: Pipeline;
  readonly connect: ConnectHandler;
  readonly graphql: GraphqlHandler;
  readonly cors: MiddlewareHandler<AppEnv>;
  readonly bodyLimit: MiddlewareHandler<AppEnv>;
}

export type RuntimeOptions = UpstreamOptions;

/** Returns a lookup that builds the runtime once per env object (throws ConfigError when misconfigured). */
export function runtimeFor(options: RuntimeOptions = {}): (env: Env) => Runtime {
  const cache = new WeakMap<Env, Runtime>();
  return (env) => {
    let runtime = cache.get(env);
    if (runtime === undefined) {
      const config = getConfig(env);
      const upstream = createUpstream(config, options);
      const pipeline = createPipeline(config, upstream, {
        auth: createEdgeAuthenticator(config),
        rateLimit: createEdgeRateLimiter(config),
        catalogue: createCatalogue(upstream, config.catalogue),
        cache: createInferenceCache(config),
      });
      runtime = {
        config,
        pipeline,
        connect: createConnectHandler(pipeline, config),
        graphql: createGraphqlHandler(pipeline, config),
        cors: createCors(config),
        bodyLimit: createBodyLimit(config),
      };
      cache.set(env, runtime);
    }
    return runtime;
  };
}

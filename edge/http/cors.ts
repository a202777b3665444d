// CORS for browsers calling REST, Connect or gRPC-Web directly. connect-es
// publishes the header lists its protocols need; we add our own.
import { cors as connectCors } from "@connectrpc/connect";
import type { MiddlewareHandler } from "hono";
import { cors } from "hono/cors";
import type { EdgeConfig } from "../config.js";
import type { AppEnv } from "./types.js";

export const ALLOWED_HEADERS = [
  ...connectCors.allowedHeaders,
  "authorization",
  "x-api-key",
  "x-request-id",
  "cache-control",
  // GraphQL GETs carry it to prove a preflight happened (CSRF prevention).
  "graphql-require-preflight",
];
export const EXPOSED_HEADERS = [
  ...connectCors.exposedHeaders,
  "x-cache",
  "cache-status",
  "www-authenticate",
  "server-timing",
  "retry-after",
  "ratelimit",
  "ratelimit-policy",
  "x-request-id",
];

export function createCors(config: Pick<EdgeConfig, "corsOrigins">): MiddlewareHandler<AppEnv> {
  return cors({
    origin: config.corsOrigins === "*" ? "*" : [...config.corsOrigins],
    allowMethods: [...new Set([...connectCors.allowedMethods, "GET", "POST", "OPTIONS"])],
    allowHeaders: ALLOWED_HEADERS,
    exposeHeaders: EXPOSED_HEADERS,
    maxAge: 600,
  });
}

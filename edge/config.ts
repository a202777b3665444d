// Parses and validates the Worker's bindings once per isolate into a typed,
// frozen config. A bad value is an operator error: every request then gets a
// 500 naming the variable, and the problem is logged once, not per request.
import { ConfigError, parseInteger } from "./config-parse.js";
import type { Env } from "./env.js";
import { parseRedisConfig, type RedisConfig } from "./redis/config.js";
import { parseAuthConfig, type AuthConfig } from "./auth/config.js";
import { parsePlans, type Plans } from "./plans/plans.js";
import { parseRateLimitConfig, type RateLimitConfig } from "./rate-limit/config.js";
import { parseCacheConfig, type CacheConfig } from "./cache/config.js";
import { parseGraphqlConfig } from "./graphql/config.js";
import { parseCatalogueConfig, type CatalogueConfig } from "./catalogue/config.js";

export interface EdgeConfig {
  readonly workerUrls: readonly string[];
  readonly workerToken: string | undefined;
  /** "*" or an explicit allow-list. */
  readonly corsOrigins: "*" | readonly string[];
  readonly maxBodyBytes: number;
  readonly maxTensorElements: number;
  /** Most BYTES elements in one request, summed over inputs (MAX_BYTES_ELEMENTS). */
  readonly maxBytesElements: number;
  /** Most bytes of BYTES element content in one request, length prefixes not counted (MAX_BYTES_LENGTH). */
  readonly maxBytesLength: number;
  readonly requestTimeoutMs: number;
  readonly upstreamAttempts: number;
  readonly environment: "development" | "production";
  /** null: no Redis configured (API keys, rate limits and the L2 cache are off). */
  readonly redis: RedisConfig | null;
  readonly plans: Plans;
  readonly auth: AuthConfig;
  readonly rateLimit: RateLimitConfig;
  readonly cache: CacheConfig;
  readonly graphql: import("./graphql/config.js").GraphqlConfig;
  readonly catalogue: CatalogueConfig;
}

export { ConfigError };

export const DEFAULTS = {
  maxBodyBytes: 8 * 1024 * 1024,
  maxTensorElements: 4_194_304,
  // Same names and defaults as the worker's: a BYTES element costs a JS
  // object per element on the way (strings for ONNX), so far fewer of them
  // fit a request than numbers do.
  maxBytesElements: 65_536,
  maxBytesLength: 4_194_304,
  requestTimeoutMs: 10_000,
  upstreamAttempts: 3,
} as const;

export function parseConfig(env: Env): EdgeConfig {
  return Object.freeze({
    workerUrls: Object.freeze(parseWorkerUrls(env.WORKER_URLS)),
    workerToken: env.WORKER_TOKEN?.trim() || undefined,
    corsOrigins: parseOrigins(env.CORS_ORIGINS),
    maxBodyBytes: parseInteger("MAX_BODY_BYTES", env.MAX_BODY_BYTES, DEFAULTS.maxBodyBytes, 1, 2 ** 31),
    maxTensorElements: parseInteger("MAX_TENSOR_ELEMENTS", env.MAX_TENSOR_ELEMENTS, DEFAULTS.maxTensorElements, 1, 2 ** 40),
    maxBytesElements: parseInteger("MAX_BYTES_ELEMENTS", env.MAX_BYTES_ELEMENTS, DEFAULTS.maxBytesElements, 1, 2 ** 40),
    maxBytesLength: parseInteger("MAX_BYTES_LENGTH", env.MAX_BYTES_LENGTH, DEFAULTS.maxBytesLength, 1, 2 ** 40),
    requestTimeoutMs: parseInteger("REQUEST_TIMEOUT_MS", env.REQUEST_TIMEOUT_MS, DEFAULTS.requestTimeoutMs, 1, 600_000),
    upstreamAttempts: parseInteger("UPSTREAM_ATTEMPTS", env.UPSTREAM_ATTEMPTS, DEFAULTS.upstreamAttempts, 1, 10),
    environment: parseEnvironment(env.ENVIRONMENT),
    redis: parseRedisConfig(env),
    plans: parsePlans(env.PLANS),
    auth: parseAuthConfig(env),
    rateLimit: parseRateLimitConfig(env),
    cache: parseCacheConfig(env),
    graphql: parseGraphqlConfig(env),
    catalogue: parseCatalogueConfig(env),
  });
}

// Cached by the env object's identity: workerd hands the same env object to
// every request of an isolate, so parsing (and the misconfiguration log)
// happens once, yet tests with fresh env objects get fresh configs.
const cache = new WeakMap<object, EdgeConfig | ConfigError>();

/** The parsed config for this env; throws the (cached) ConfigError when invalid. */
export function getConfig(env: Env): EdgeConfig {
  let entry = cache.get(env);
  if (entry === undefined) {
    try {
      entry = parseConfig(env);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      entry = error;
      console.error(JSON.stringify({ level: "error", msg: "edge misconfigured", detail: error.message }));
    }
    cache.set(env, entry);
  }
  if (entry instanceof ConfigError) throw entry;
  return entry;
}

function splitList(value: string | undefined): string[] {
  return (value ?? "")
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item !== "");
}

function parseWorkerUrls(value: string | undefined): string[] {
  const items = splitList(value);
  if (items.length === 0) {
    throw new ConfigError('WORKER_URLS is required: a comma-separated list of worker base URLs, e.g. "http://127.0.0.1:8001"');
  }
  const urls = items.map((item) => {
    let url: URL;
    try {
      url = new URL(item);
    } catch {
      throw new ConfigError(`WORKER_URLS entry "${item}" is not a valid URL`);
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw new ConfigError(`WORKER_URLS entry "${item}" must use http or https`);
    }
    if (url.search || url.hash) throw new ConfigError(`WORKER_URLS entry "${item}" must not have a query or fragment`);
    // Connect appends "/inference.GRPCInferenceService/Method": no trailing slash.
    return url.toString().replace(/\/+$/, "");
  });
  if (new Set(urls).size !== urls.length) throw new ConfigError("WORKER_URLS lists the same URL twice");
  return urls;
}

function parseOrigins(value: string | undefined): "*" | readonly string[] {
  const items = splitList(value);
  if (items.includes("*")) {
    if (items.length > 1) throw new ConfigError('CORS_ORIGINS is either "*" or a list of origins, not both');
    return "*";
  }
  for (const item of items) {
    let url: URL;
    try {
      url = new URL(item);
    } catch {
      throw new ConfigError(`CORS_ORIGINS entry "${item}" is not an origin like "https://app.example.com"`);
    }
    if (url.origin !== item.replace(/\/$/, "")) {
      throw new ConfigError(`CORS_ORIGINS entry "${item}" must be a bare origin (scheme://host[:port]) without a path`);
    }
  }
  return Object.freeze(items.map((item) => item.replace(/\/$/, "")));
}


function parseEnvironment(value: string | undefined): "development" | "production" {
  const text = (value ?? "").trim() || "production";
  if (text !== "development" && text !== "production") {
    throw new ConfigError(`ENVIRONMENT must be "development" or "production", got "${value}"`);
  }
  return text;
}

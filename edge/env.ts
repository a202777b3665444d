// Bindings the edge Worker receives. Every value arrives as a string from
// wrangler.toml [vars] or `wrangler secret put`; edge/config.ts parses them.
export interface Env {
  /** Comma-separated base URLs of the GPU workers (Connect protocol). Required. */
  WORKER_URLS?: string;
  /** Shared secret the workers check (`authorization: Bearer ...`). A secret, never a var. */
  WORKER_TOKEN?: string;
  /** Comma-separated browser origins allowed by CORS, or "*". */
  CORS_ORIGINS?: string;
  /** Largest request body in bytes (default 8 MiB). */
  MAX_BODY_BYTES?: string;
  /** Largest number of tensor elements in one request, summed over inputs. */
  MAX_TENSOR_ELEMENTS?: string;
  /** Upper bound on one request's time at the edge, in milliseconds. */
  REQUEST_TIMEOUT_MS?: string;
  /** Most upstream attempts per request (the first try plus retries). */
  UPSTREAM_ATTEMPTS?: string;
  /** development | production: production hides nothing more today but logs less. */
  ENVIRONMENT?: string;
  /** Upstash Redis REST endpoint (locally: our bridge in front of redis-server). */
  UPSTASH_REDIS_REST_URL?: string;
  /** Upstash Redis REST token. A secret. */
  UPSTASH_REDIS_REST_TOKEN?: string;
  /** Milliseconds one Redis round trip may take before the configured fallback applies (default 200). */
  REDIS_TIMEOUT_MS?: string;
}

// Bindings the edge Worker receives. Every value arrives as a string from
// wrangler.toml [vars] or `wrangler secret put`; edge/config.ts parses them.
import type { CatalogueEnv } from "./catalogue/config.js";
import type { GraphqlEnv } from "./graphql/config.js";

export interface Env extends GraphqlEnv, CatalogueEnv {
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
  /** Most BYTES elements in one request, summed over inputs (default 65536). */
  MAX_BYTES_ELEMENTS?: string;
  /** Most bytes of BYTES element content in one request (default 4 MiB). */
  MAX_BYTES_LENGTH?: string;
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
  /** JSON object of plans: requests and cost units per window, allowed models (see README). */
  PLANS?: string;
  /** Plan for callers without credentials, limited per client IP; empty = anonymous access off. */
  AUTH_ANONYMOUS_PLAN?: string;
  /** Milliseconds an API key lookup is reused per isolate (the revocation delay; default 30000). */
  API_KEY_CACHE_TTL_MS?: string;
  /** Unknown API keys one client address may try per minute before lookups are refused (default 30; 0 = no limit). */
  API_KEY_MISSES_PER_MIN?: string;
  /** Accepted JWT issuer (`iss`); required when JWT is configured. */
  JWT_ISSUER?: string;
  /** Comma-separated accepted JWT audiences (`aud`); required when JWT is configured. */
  JWT_AUDIENCE?: string;
  /** JWKS URL with the RS256/ES256 public keys. */
  JWT_JWKS_URL?: string;
  /** HS256 shared secret (at least 32 bytes). A secret, never a var. */
  JWT_HS256_SECRET?: string;
  /** Comma-separated accepted algorithms (HS256, RS256, ES256); default: what the keys allow. */
  JWT_ALGORITHMS?: string;
  /** Claim naming the tenant (default "tenant", else `sub`). */
  JWT_TENANT_CLAIM?: string;
  /** Claim naming the plan (default "plan"). */
  JWT_PLAN_CLAIM?: string;
  /** Plan for tokens without a plan claim; empty = such tokens get 403. */
  JWT_DEFAULT_PLAN?: string;
  /** Seconds of clock skew allowed for exp/nbf (default 30). */
  JWT_CLOCK_TOLERANCE_S?: string;
  /** open | closed (default open): what rate limiting does when Redis fails or is slow. */
  RATE_LIMIT_FAILURE_MODE?: string;
  /** First penalty block in seconds after a denial (default 1; 0 = no penalty). */
  RATE_LIMIT_PENALTY_BASE_S?: string;
  /** Longest penalty block in seconds (default 60). */
  RATE_LIMIT_PENALTY_MAX_S?: string;
  /** Quiet seconds after which penalty strikes are forgotten (default 120). */
  RATE_LIMIT_PENALTY_DECAY_S?: string;
  /** true | false (default true): the inference cache (L1 Cache API, L2 Redis). */
  CACHE_ENABLED?: string;
  /** Seconds a cached result lives when the model sets no `cache.ttl_s` (default 300). */
  CACHE_DEFAULT_TTL_S?: string;
  /** Largest encoded result stored in the cache, in bytes (default 1 MiB). */
  CACHE_MAX_ENTRY_BYTES?: string;
}

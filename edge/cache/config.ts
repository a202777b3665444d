// Cache settings (CACHE_*), parsed once per isolate with the rest of the
// config. Redis for the L2 tier comes from the shared `config.redis`.
import { ConfigError, parseBool, parseInteger } from "../config-parse.js";
import type { Env } from "../env.js";

export interface CacheConfig {
  /** false: every inference answers `x-cache: BYPASS` and nothing is read or stored. */
  readonly enabled: boolean;
  /** Seconds an entry lives when the model's config sets no `cache.ttl_s`. */
  readonly defaultTtlS: number;
  /** Encoded answers larger than this are served but not stored. */
  readonly maxEntryBytes: number;
}

export const CACHE_DEFAULTS = {
  enabled: true,
  defaultTtlS: 300,
  maxEntryBytes: 1024 * 1024,
} as const;

export function parseCacheConfig(env: Env): CacheConfig {
  return Object.freeze({
    enabled: parseBool("CACHE_ENABLED", env.CACHE_ENABLED, CACHE_DEFAULTS.enabled),
    // Up to 30 days: longer than any sane result lifetime, and within what
    // Redis EX and the Cache API's max-age both accept.
    defaultTtlS: parseInteger("CACHE_DEFAULT_TTL_S", env.CACHE_DEFAULT_TTL_S, CACHE_DEFAULTS.defaultTtlS, 1, 30 * 86_400),
    // 1 byte .. 64 MiB; Upstash caps one value (and one request) well below
    // the upper end, so large answers belong in L1 only or nowhere.
    maxEntryBytes: parseInteger("CACHE_MAX_ENTRY_BYTES", env.CACHE_MAX_ENTRY_BYTES, CACHE_DEFAULTS.maxEntryBytes, 1, 64 * 1024 * 1024),
  });
}



// What the edge remembers about the workers, and for how long (CATALOGUE_*,
// READY_CACHE_TTL_MS). Remembering is what keeps a stranger's requests from
// turning into worker calls one for one: a model name that does not exist,
// asked for again and again, or a readiness probe polled in a loop.
import { parseInteger } from "../config-parse.js";

/** The bindings this section reads (merged into edge/env.ts's Env). */
export interface CatalogueEnv {
  /** Milliseconds a model's facts (resolved version, cost, cacheability) are reused (default 5000). */
  CATALOGUE_TTL_MS?: string;
  /** Milliseconds a "no such model or version" answer is reused (default 2000; 0 = not remembered). */
  CATALOGUE_NEGATIVE_TTL_MS?: string;
  /** Most model/version answers (found or not) kept per isolate (default 1000); the oldest go first. */
  CATALOGUE_MAX_ENTRIES?: string;
  /** Milliseconds /v2/health/ready (and GraphQL health) reuse the workers' last readiness answer (default 1000). */
  READY_CACHE_TTL_MS?: string;
}

export interface CatalogueConfig {
  readonly ttlMs: number;
  readonly negativeTtlMs: number;
  readonly maxEntries: number;
  readonly readyTtlMs: number;
}

export const CATALOGUE_DEFAULTS = { ttlMs: 5_000, negativeTtlMs: 2_000, maxEntries: 1_000, readyTtlMs: 1_000 } as const;

export function parseCatalogueConfig(env: CatalogueEnv): CatalogueConfig {
  return Object.freeze({
    ttlMs: parseInteger("CATALOGUE_TTL_MS", env.CATALOGUE_TTL_MS, CATALOGUE_DEFAULTS.ttlMs, 0, 3_600_000),
    negativeTtlMs: parseInteger("CATALOGUE_NEGATIVE_TTL_MS", env.CATALOGUE_NEGATIVE_TTL_MS, CATALOGUE_DEFAULTS.negativeTtlMs, 0, 600_000),
    maxEntries: parseInteger("CATALOGUE_MAX_ENTRIES", env.CATALOGUE_MAX_ENTRIES, CATALOGUE_DEFAULTS.maxEntries, 1, 1_000_000),
    readyTtlMs: parseInteger("READY_CACHE_TTL_MS", env.READY_CACHE_TTL_MS, CATALOGUE_DEFAULTS.readyTtlMs, 0, 60_000),
  });
}

// GraphQL settings (GRAPHQL_*), parsed once per isolate with the rest of the
// config. Defaults are production-safe; development (ENVIRONMENT) only turns
// introspection and field suggestions back on.
import { ConfigError, parseBool, parseInteger } from "../config-parse.js";

/** The bindings this section reads (merged into edge/env.ts's Env). */
export interface GraphqlEnv {
  /** Deepest selection set accepted (default 10; introspection is not counted). */
  GRAPHQL_MAX_DEPTH?: string;
  /** Largest query cost (graphql-armor's cost model; default 5000). */
  GRAPHQL_MAX_COST?: string;
  /** Most aliases in one operation (default 20): bounds fan-out such as many `infer` fields. */
  GRAPHQL_MAX_ALIASES?: string;
  /** Most directives in one operation (default 20). */
  GRAPHQL_MAX_DIRECTIVES?: string;
  /** Most tokens in one document (default 2000); send tensor data as variables, which are not tokens. */
  GRAPHQL_MAX_TOKENS?: string;
  /** Most operations in one batched HTTP request (default 10; 1 turns batching off). */
  GRAPHQL_MAX_BATCH?: string;
  /** true | false: introspection and "did you mean" suggestions (default: on in development only). */
  GRAPHQL_INTROSPECTION?: string;
  /** true | false (default false): run only operations from the persisted-operation allow-list. */
  GRAPHQL_PERSISTED_ONLY?: string;
  /** JSON object: sha256 hex of a document -> the document (the allow-list). */
  GRAPHQL_PERSISTED_OPERATIONS?: string;
  /** Shortest interval a statistics subscription may ask for, in milliseconds (default 500). */
  GRAPHQL_MIN_INTERVAL_MS?: string;
  /** Most live subscriptions one caller (principal) may hold per isolate (default 10). */
  GRAPHQL_MAX_SUBSCRIPTIONS_PER_CALLER?: string;
  /** Most live subscriptions per isolate, all callers together (default 1000). */
  GRAPHQL_MAX_SUBSCRIPTIONS?: string;
}

export interface GraphqlConfig {
  readonly maxDepth: number;
  readonly maxCost: number;
  readonly maxAliases: number;
  readonly maxDirectives: number;
  readonly maxTokens: number;
  /** 1: batched requests are refused. */
  readonly maxBatch: number;
  readonly introspection: boolean;
  readonly persistedOnly: boolean;
  /** Hash -> document. */
  readonly persistedOperations: ReadonlyMap<string, string>;
  readonly minIntervalMs: number;
  readonly maxSubscriptionsPerCaller: number;
  readonly maxSubscriptions: number;
}

export const GRAPHQL_DEFAULTS = {
  maxDepth: 10,
  maxCost: 5000,
  maxAliases: 20,
  maxDirectives: 20,
  maxTokens: 2000,
  maxBatch: 10,
  minIntervalMs: 500,
  maxSubscriptionsPerCaller: 10,
  maxSubscriptions: 1000,
} as const;

export function parseGraphqlConfig(env: GraphqlEnv & { ENVIRONMENT?: string }): GraphqlConfig {
  const development = (env.ENVIRONMENT ?? "").trim() === "development";
  const persistedOperations = parsePersisted(env.GRAPHQL_PERSISTED_OPERATIONS);
  const persistedOnly = parseBool("GRAPHQL_PERSISTED_ONLY", env.GRAPHQL_PERSISTED_ONLY, false);
  if (persistedOnly && persistedOperations.size === 0) {
    throw new ConfigError("GRAPHQL_PERSISTED_ONLY is true but GRAPHQL_PERSISTED_OPERATIONS lists no operations");
  }
  return Object.freeze({
    maxDepth: parseInteger("GRAPHQL_MAX_DEPTH", env.GRAPHQL_MAX_DEPTH, GRAPHQL_DEFAULTS.maxDepth, 1, 100),
    maxCost: parseInteger("GRAPHQL_MAX_COST", env.GRAPHQL_MAX_COST, GRAPHQL_DEFAULTS.maxCost, 1, 10_000_000),
    maxAliases: parseInteger("GRAPHQL_MAX_ALIASES", env.GRAPHQL_MAX_ALIASES, GRAPHQL_DEFAULTS.maxAliases, 0, 10_000),
    maxDirectives: parseInteger("GRAPHQL_MAX_DIRECTIVES", env.GRAPHQL_MAX_DIRECTIVES, GRAPHQL_DEFAULTS.maxDirectives, 0, 10_000),
    maxTokens: parseInteger("GRAPHQL_MAX_TOKENS", env.GRAPHQL_MAX_TOKENS, GRAPHQL_DEFAULTS.maxTokens, 1, 1_000_000),
    maxBatch: parseInteger("GRAPHQL_MAX_BATCH", env.GRAPHQL_MAX_BATCH, GRAPHQL_DEFAULTS.maxBatch, 1, 1000),
    introspection: parseBool("GRAPHQL_INTROSPECTION", env.GRAPHQL_INTROSPECTION, development),
    persistedOnly,
    persistedOperations,
    minIntervalMs: parseInteger("GRAPHQL_MIN_INTERVAL_MS", env.GRAPHQL_MIN_INTERVAL_MS, GRAPHQL_DEFAULTS.minIntervalMs, 10, 3_600_000),
    maxSubscriptionsPerCaller: parseInteger(
      "GRAPHQL_MAX_SUBSCRIPTIONS_PER_CALLER",
      env.GRAPHQL_MAX_SUBSCRIPTIONS_PER_CALLER,
      GRAPHQL_DEFAULTS.maxSubscriptionsPerCaller,
      1,
      100_000,
    ),
    maxSubscriptions: parseInteger("GRAPHQL_MAX_SUBSCRIPTIONS", env.GRAPHQL_MAX_SUBSCRIPTIONS, GRAPHQL_DEFAULTS.maxSubscriptions, 1, 1_000_000),
  });
}

const HASH = /^[0-9a-f]{64}$/;

// Keys are checked for shape only: hashing every document would need
// crypto.subtle (async) inside a synchronous config parse, and an operator
// who lists a wrong hash only makes that entry unreachable.
function parsePersisted(value: string | undefined): ReadonlyMap<string, string> {
  const text = (value ?? "").trim();
  if (text === "") return new Map();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`GRAPHQL_PERSISTED_OPERATIONS is not valid JSON: ${(error as Error).message}`);
  }
  if (json === null || typeof json !== "object" || Array.isArray(json)) {
    throw new ConfigError('GRAPHQL_PERSISTED_OPERATIONS must be a JSON object {"<sha256 hex>": "<document>"}');
  }
  const map = new Map<string, string>();
  for (const [hash, document] of Object.entries(json as Record<string, unknown>)) {
    if (!HASH.test(hash)) throw new ConfigError(`GRAPHQL_PERSISTED_OPERATIONS key "${hash}" is not a lower-case sha256 hex digest`);
    if (typeof document !== "string" || document.trim() === "") {
      throw new ConfigError(`GRAPHQL_PERSISTED_OPERATIONS entry "${hash}" must be a non-empty GraphQL document string`);
    }
    map.set(hash, document);
  }
  return map;
}



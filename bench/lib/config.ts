// Bench knobs, all from the environment so CI and a laptop can shrink or grow
// the run without code changes. Defaults keep the whole run to a few minutes
// on the reference 2-core machine.

export interface BenchConfig {
  /** Measured seconds of every throughput run (after its warm-up). */
  readonly seconds: number;
  /** Warm-up seconds before every throughput run (JIT, pools, connections). */
  readonly warmupSeconds: number;
  /** Sequential requests of every concurrency-1 latency run. */
  readonly requests: number;
  /** Sequential requests sent and discarded before every latency run. */
  readonly warmupRequests: number;
  /** Hard cap on the seconds a single latency run may take, whatever `requests` says. */
  readonly latencyMaxSeconds: number;
  /** In-flight requests of the iris throughput runs. */
  readonly irisConcurrency: number;
  /** In-flight requests of the mlp-wide batching runs. */
  readonly batchConcurrency: number;
  /** Measured seconds of each mlp-wide batching run. */
  readonly batchSeconds: number;
  /** HTTP/2 connections h2load opens; streams per connection = concurrency / connections. */
  readonly h2Connections: number;
  /** Seconds and requests for the slow reference rows (wrangler dev, Miniflare). */
  readonly referenceSeconds: number;
  readonly referenceRequests: number;
  /** BATCHING for the iris worker; undefined leaves the worker's own default. */
  readonly irisBatching: string | undefined;
  /** HTTP/1.1 load generator: wrk (native, preferred) or autocannon (Node). */
  readonly http1Tool: "wrk" | "autocannon";
  /** Extra text bindings for the edge (workerd, wrangler dev, Miniflare), e.g. secrets a newer edge requires. */
  readonly edgeVars: Readonly<Record<string, string>>;
  /** Extra headers on every edge request, e.g. an API key once the edge authenticates. */
  readonly edgeHeaders: Readonly<Record<string, string>>;
  /** Checked sequential requests per edge-cache row whose Redis work is counted. */
  readonly cacheProbeRequests: number;
  /** graphql scenario: measured units of each 3-model variant (c=1), warm-up units, time cap of that loop, units counted for bytes. */
  readonly graphqlUnits: number;
  readonly graphqlWarmupUnits: number;
  readonly graphqlMaxSeconds: number;
  readonly graphqlWireUnits: number;
  /** browser scenario: measured sequential calls per protocol and side (Chromium, Node), warm-up calls before them, time cap of each such loop. */
  readonly browserCalls: number;
  readonly browserWarmupCalls: number;
  readonly browserMaxSeconds: number;
  /** Row ids or groups to run; null runs everything. */
  readonly only: ReadonlySet<string> | null;
}

function num(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === "") return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new Error(`${name}=${raw}: expected a number in [${min}, ${max}]`);
  }
  return value;
}

function stringMap(name: string): Record<string, string> {
  const raw = process.env[name]?.trim();
  if (!raw) return {};
  const value: unknown = JSON.parse(raw);
  if (typeof value !== "object" || value === null || Array.isArray(value) || Object.values(value).some((v) => typeof v !== "string")) {
    throw new Error(`${name}: expected a JSON object of strings`);
  }
  return value as Record<string, string>;
}

export function loadConfig(): BenchConfig {
  const seconds = num("BENCH_SECONDS", 5, 0.5, 120);
  const requests = Math.round(num("BENCH_REQUESTS", 2000, 10, 1_000_000));
  const onlyRaw = process.env.BENCH_ONLY?.trim();
  const tool = process.env.BENCH_HTTP1_TOOL?.trim() || "wrk";
  if (tool !== "wrk" && tool !== "autocannon") throw new Error(`BENCH_HTTP1_TOOL=${tool}: expected wrk or autocannon`);
  return {
    seconds,
    warmupSeconds: num("BENCH_WARMUP_SECONDS", 1, 0, 60),
    requests,
    warmupRequests: Math.round(num("BENCH_WARMUP_REQUESTS", Math.min(200, requests), 0, 100_000)),
    latencyMaxSeconds: num("BENCH_LATENCY_MAX_SECONDS", 20, 1, 600),
    irisConcurrency: Math.round(num("BENCH_IRIS_CONCURRENCY", 32, 1, 4096)),
    batchConcurrency: Math.round(num("BENCH_BATCH_CONCURRENCY", 64, 1, 4096)),
    batchSeconds: num("BENCH_BATCH_SECONDS", Math.max(seconds, 8), 0.5, 300),
    h2Connections: Math.round(num("BENCH_H2_CONNECTIONS", 4, 1, 1024)),
    referenceSeconds: num("BENCH_REFERENCE_SECONDS", Math.min(3, seconds), 0.5, 120),
    referenceRequests: Math.round(num("BENCH_REFERENCE_REQUESTS", Math.min(500, requests), 10, 1_000_000)),
    irisBatching: process.env.BENCH_IRIS_BATCHING?.trim() || undefined,
    http1Tool: tool,
    edgeVars: stringMap("BENCH_EDGE_VARS"),
    edgeHeaders: stringMap("BENCH_EDGE_HEADERS"),
    cacheProbeRequests: Math.round(num("BENCH_CACHE_PROBE_REQUESTS", 200, 1, 100_000)),
    graphqlUnits: Math.round(num("BENCH_GRAPHQL_UNITS", 500, 10, 100_000)),
    graphqlWarmupUnits: Math.round(num("BENCH_GRAPHQL_WARMUP_UNITS", 50, 0, 10_000)),
    graphqlMaxSeconds: num("BENCH_GRAPHQL_MAX_SECONDS", 40, 1, 600),
    graphqlWireUnits: Math.round(num("BENCH_GRAPHQL_WIRE_UNITS", 10, 1, 10_000)),
    browserCalls: Math.round(num("BENCH_BROWSER_CALLS", 200, 1, 10_000)),
    browserWarmupCalls: Math.round(num("BENCH_BROWSER_WARMUP_CALLS", 20, 0, 1_000)),
    browserMaxSeconds: num("BENCH_BROWSER_MAX_SECONDS", 15, 1, 300),
    only: onlyRaw ? new Set(onlyRaw.split(",").map((s) => s.trim()).filter(Boolean)) : null,
  };
}

/** A row runs when BENCH_ONLY is unset or names its id or one of its groups. */
export function selected(config: BenchConfig, id: string, ...groups: string[]): boolean {
  return config.only === null || config.only.has(id) || groups.some((g) => config.only!.has(g));
}

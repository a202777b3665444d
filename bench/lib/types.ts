// Shapes of the figures every target returns and the report consumes.
import type { LatencySummary } from "./stats.js";

export interface LatencyResult {
  /** What generated the load and timed it, e.g. "h2load -c1 -m1" or "connect-node client". */
  tool: string;
  summary: LatencySummary;
  errors: number;
}

export interface ThroughputResult {
  tool: string;
  concurrency: number;
  /** Measured seconds (warm-up excluded). */
  seconds: number;
  /** Successful requests in the measured window. */
  requests: number;
  errors: number;
  rps: number;
  p50Us: number;
  p99Us: number;
}

/** Redis work per request, from a counted probe of sequential requests (bench/lib/redis-count.ts). */
export interface RedisPerRequest {
  /** Requests in the counted probe. */
  requests: number;
  /** HTTP requests reaching the Upstash REST bridge, per request (= Redis round trips). */
  trips: number;
  /** Of which /pipeline or /multi-exec calls, per request. */
  pipelines: number;
  /** redis-server commands per request (Lua script internals included). */
  commands: number;
  /** Commands per request by name. */
  byCommand: Record<string, number>;
}

/** Bytes on the wire per unit of work (graphql scenario); how they were counted is in `method`. */
export interface WireBytes {
  /** Units counted. */
  units: number;
  /** HTTP requests per unit. */
  requestsPerUnit: number;
  requestHeaderBytes: number;
  requestBodyBytes: number;
  responseHeaderBytes: number;
  responseBodyBytes: number;
  method: string;
}

/** Body bytes per call (browser scenario): request and response bodies only, no headers or framing of HTTP itself. */
export interface BodyBytes {
  /** Calls counted (the measured ones). */
  calls: number;
  /** Mean request body bytes per call. */
  request: number;
  /** Mean response body bytes per call. */
  response: number;
  /** Smallest and largest request + response of one call (equal when every call sent and got the same bytes). */
  minTotal: number;
  maxTotal: number;
  /** How they were counted. */
  method: string;
}

/** cancel rows: what the worker recorded for the aborted calls. */
export interface CancelOutcomes {
  /** Aborted calls made. */
  calls: number;
  /** The worker counted a cancellation (each one a latency sample). */
  cancelled: number;
  /** The worker counted a success: the run completed despite the abort. */
  completed: number;
  /** Neither outcome seen in time. */
  unseen: number;
}

export interface Row {
  scenario: "iris" | "mlp-wide" | "edge-cache" | "graphql" | "browser" | "cancel";
  id: string;
  /** Human label for the table. */
  label: string;
  /** Reference rows (e.g. wrangler dev) are shown but never used for goals. */
  reference?: boolean;
  latency?: LatencyResult;
  throughput?: ThroughputResult;
  /** Why the row (or a half of it) has no figure. */
  skipped?: string;
  notes?: string[];
  /** Edge cache rows: Redis round trips and commands per request. */
  redis?: RedisPerRequest;
  /** graphql rows: bytes on the wire per unit of work. */
  wire?: WireBytes;
  /** browser rows: request + response body bytes per call. */
  bodies?: BodyBytes;
  /** cancel rows (abort -> worker cancelled): outcomes of the aborted calls. */
  cancel?: CancelOutcomes;
  /** Id of the row the ratio columns divide by, when not the scenario's floor. */
  baseline?: string;
}

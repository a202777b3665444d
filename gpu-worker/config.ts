// Worker settings: environment variables parsed and validated once into a
// typed object. Every problem is collected so an operator sees them all at
// once instead of fixing one per restart.
import { EXECUTION_PROVIDERS, isExecutionProvider, type ExecutionProvider } from "./model/config.js";
import { LOG_LEVELS, type LogLevel } from "./log.js";

export interface WorkerConfig {
  readonly host: string;
  readonly port: number;
  readonly modelRepository: string;
  /** Provider preference, first that works wins; a model's config.json may override it. */
  readonly executionProviders: readonly ExecutionProvider[];
  /** Shared secret the edge sends as `authorization: Bearer ...`; undefined disables the check. */
  readonly token: string | undefined;
  readonly maxConcurrentStreams: number;
  /** MAX_HEALTH_WATCHES: open grpc.health.v1 Watch streams the worker holds at once (Check is never limited). */
  readonly maxHealthWatches: number;
  readonly http2IdleTimeoutMs: number;
  readonly headersTimeoutMs: number;
  /** Deadline for a call without one, and the cap on any deadline a client asks for. */
  readonly requestTimeoutMs: number;
  /** Hard cap on one message; the read limit actually used is derived from the models (see model/limits.ts). */
  readonly maxMessageBytes: number;
  /** MAX_BYTES_ELEMENTS: most BYTES elements per request, summed over inputs (see model/limits.ts). */
  readonly maxBytesElements: number;
  /** MAX_BYTES_LENGTH: most bytes of BYTES element content per request, summed over inputs. */
  readonly maxBytesLength: number;
  readonly drainTimeoutMs: number;
  /** Global dynamic-batching switch, so the benchmark can compare on/off with the same models. */
  readonly batching: boolean;
  /**
   * SESSION_THREADS: run each model instance's onnxruntime session in a worker
   * thread, so the event loop keeps serving (cancellations, new requests,
   * health, /metrics) while a model runs; off runs sessions on the main
   * thread, which onnxruntime-node blocks for the whole execution.
   */
  readonly sessionThreads: boolean;
  readonly logLevel: LogLevel;
}

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid worker configuration:\n  ${problems.join("\n  ")}`);
    this.name = "ConfigError";
  }
}

type Env = Readonly<Record<string, string | undefined>>;

export function parseConfig(env: Env): WorkerConfig {
  const problems: string[] = [];
  const read = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === "" ? undefined : value;
  };
  const integer = (name: string, fallback: number, min: number, max: number): number => {
    const raw = read(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!/^\d+$/.test(raw) || !Number.isSafeInteger(value) || value < min || value > max) {
      problems.push(`${name}=${JSON.stringify(raw)}: expected an integer from ${min} to ${max}`);
      return fallback;
    }
    return value;
  };
  const oneOf = <T extends string>(name: string, allowed: readonly T[], fallback: T): T => {
    const raw = read(name)?.toLowerCase();
    if (raw === undefined) return fallback;
    if ((allowed as readonly string[]).includes(raw)) return raw as T;
    problems.push(`${name}=${JSON.stringify(raw)}: expected one of ${allowed.join(", ")}`);
    return fallback;
  };

  const providers = (read("EXECUTION_PROVIDERS") ?? "cuda,webgpu,cpu")
    .split(",")
    .map((p) => p.trim().toLowerCase())
    .filter((p) => p !== "");
  const unknown = providers.filter((p) => !isExecutionProvider(p));
  if (unknown.length > 0 || providers.length === 0) {
    problems.push(
      `EXECUTION_PROVIDERS=${JSON.stringify(read("EXECUTION_PROVIDERS") ?? "")}: expected a comma-separated list of ${EXECUTION_PROVIDERS.join(", ")}`,
    );
  }
  if (new Set(providers).size !== providers.length) problems.push("EXECUTION_PROVIDERS: lists a provider twice");

  const MiB = 1024 * 1024;
  const config: WorkerConfig = {
    host: read("WORKER_HOST") ?? "127.0.0.1",
    port: integer("WORKER_PORT", 8001, 0, 65535),
    modelRepository: read("MODEL_REPOSITORY") ?? "./models",
    executionProviders: providers.filter(isExecutionProvider),
    token: read("WORKER_TOKEN"),
    maxConcurrentStreams: integer("MAX_CONCURRENT_STREAMS", 256, 1, 2 ** 31 - 1),
    maxHealthWatches: integer("MAX_HEALTH_WATCHES", 64, 0, 1_000_000),
    http2IdleTimeoutMs: integer("HTTP2_IDLE_TIMEOUT_MS", 120_000, 1, 2 ** 31 - 1),
    headersTimeoutMs: integer("HEADERS_TIMEOUT_MS", 10_000, 1, 2 ** 31 - 1),
    requestTimeoutMs: integer("REQUEST_TIMEOUT_MS", 30_000, 1, 2 ** 31 - 1),
    maxMessageBytes: integer("MAX_MESSAGE_BYTES", 64 * MiB, 1024, 2 ** 31 - 1),
    maxBytesElements: integer("MAX_BYTES_ELEMENTS", 65_536, 1, 2 ** 31 - 1),
    maxBytesLength: integer("MAX_BYTES_LENGTH", 4 * MiB, 0, 2 ** 31 - 1),
    drainTimeoutMs: integer("DRAIN_TIMEOUT_MS", 30_000, 0, 2 ** 31 - 1),
    batching: oneOf("BATCHING", ["on", "off"] as const, "on") === "on",
    // On by default: a free event loop during runs is a correctness matter
    // (cancellations, deadlines, health probes, /metrics), and its price was
    // within this 2-core CPU machine's run-to-run noise for iris (h2load, c=1
    // p50 757-951 µs on vs 619-952 off; c=32 2.7-4.0k req/s on vs 2.5-4.6k
    // off) and for batched mlp-wide (1.4-2.0k req/s either way). Single-row
    // mlp-wide with BATCHING=off lost about 14% (~335 vs ~390 req/s): the
    // session thread's onnxruntime pool and the main thread share 2 cores.
    sessionThreads: oneOf("SESSION_THREADS", ["on", "off"] as const, "on") === "on",
    logLevel: oneOf("LOG_LEVEL", LOG_LEVELS, "info"),
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

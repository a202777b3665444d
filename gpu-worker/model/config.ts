// config.json of one model (see docs/CONTRACTS.md): parsed into a typed,
// validated object. Errors name the file and the field so a broken
// repository is fixed from the first log line.
import { isDatatype, type Datatype } from "../../common/oip/index.js";

export const EXECUTION_PROVIDERS = ["cuda", "webgpu", "cpu"] as const;
export type ExecutionProvider = (typeof EXECUTION_PROVIDERS)[number];

export function isExecutionProvider(value: string): value is ExecutionProvider {
  return (EXECUTION_PROVIDERS as readonly string[]).includes(value);
}

export interface TensorConfig {
  readonly name: string;
  readonly datatype: Datatype;
  /** Without the batch dimension when max_batch_size > 0; -1 marks a variable dimension. */
  readonly dims: readonly number[];
  readonly labels?: readonly string[];
}

export interface DynamicBatchingConfig {
  readonly maxQueueDelayUs: number;
  readonly preferredBatchSizes: readonly number[];
}

export type VersionPolicy =
  | { readonly kind: "latest"; readonly count: number }
  | { readonly kind: "all" }
  | { readonly kind: "specific"; readonly versions: readonly number[] };

export interface ModelConfig {
  readonly name: string;
  readonly platform: string;
  readonly maxBatchSize: number;
  readonly inputs: readonly TensorConfig[];
  readonly outputs: readonly TensorConfig[];
  /** null: requests queue but run one per execution. */
  readonly dynamicBatching: DynamicBatchingConfig | null;
  /** Bound on queued requests, batching or not; a full queue rejects with resource_exhausted. */
  readonly maxQueueSize: number;
  readonly instanceCount: number;
  readonly deterministic: boolean;
  readonly costWeight: number;
  /** Edge cache rules for deterministic models: freshness and whether entries are shared across tenants. */
  readonly cache: { readonly ttlS: number | null; readonly public: boolean };
  readonly versionPolicy: VersionPolicy;
  /** null: use the worker's EXECUTION_PROVIDERS. */
  readonly executionProviders: readonly ExecutionProvider[] | null;
  /** Session in worker threads (true) or on the main thread (false); null: the worker's SESSION_THREADS. */
  readonly sessionThreads: boolean | null;
  /** onnxruntime's intra-op threads per session; 0: its default (one per core). */
  readonly intraOpThreads: number;
}

/** Queue bound when config.json names none: generous, but finite so overload sheds load instead of memory. */
export const DEFAULT_MAX_QUEUE_SIZE = 1024;

export class ModelConfigError extends Error {
  constructor(file: string, problem: string) {
    super(`${file}: ${problem}`);
    this.name = "ModelConfigError";
  }
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);
const isInt = (v: unknown, min: number): v is number => Number.isSafeInteger(v) && (v as number) >= min;

/** `folder` is the model's directory name, which config.json's `name` must match (as in Triton). */
export function parseModelConfig(json: unknown, file: string, folder: string): ModelConfig {
  const fail = (problem: string): never => {
    throw new ModelConfigError(file, problem);
  };
  if (!isObject(json)) return fail("expected a JSON object");

  const name = json.name ?? folder;
  if (typeof name !== "string" || name !== folder) fail(`"name" ${JSON.stringify(name)} must match the folder name "${folder}"`);
  const platform = json.platform ?? "onnxruntime_onnx";
  if (platform !== "onnxruntime_onnx") fail(`"platform" ${JSON.stringify(platform)}: only "onnxruntime_onnx" is served`);

  const maxBatchSize = json.max_batch_size ?? 0;
  if (!isInt(maxBatchSize, 0)) return fail(`"max_batch_size" must be an integer >= 0, got ${JSON.stringify(maxBatchSize)}`);

  const inputs = parseTensors(json.input, "input", fail);
  const outputs = parseTensors(json.output, "output", fail);
  if (inputs.length === 0) fail(`"input" must list at least one tensor`);
  if (outputs.length === 0) fail(`"output" must list at least one tensor`);
  if (maxBatchSize === 0 && json.dynamic_batching !== undefined) {
    fail(`"dynamic_batching" needs "max_batch_size" > 0 (without a batch dimension there is nothing to merge)`);
  }

  let dynamicBatching: DynamicBatchingConfig | null = null;
  let maxQueueSize = DEFAULT_MAX_QUEUE_SIZE;
  if (json.dynamic_batching !== undefined) {
    const db = json.dynamic_batching;
    if (!isObject(db)) return fail(`"dynamic_batching" must be an object`);
    const delay = db.max_queue_delay_us ?? 0;
    if (!isInt(delay, 0)) fail(`"dynamic_batching.max_queue_delay_us" must be an integer >= 0`);
    const preferred = db.preferred_batch_sizes ?? [];
    if (!Array.isArray(preferred) || !preferred.every((s) => isInt(s, 1) && s <= maxBatchSize)) {
      fail(`"dynamic_batching.preferred_batch_sizes" must be integers from 1 to max_batch_size (${maxBatchSize})`);
    }
    const queue = db.max_queue_size ?? DEFAULT_MAX_QUEUE_SIZE;
    if (!isInt(queue, 1)) fail(`"dynamic_batching.max_queue_size" must be an integer >= 1`);
    maxQueueSize = queue as number;
    dynamicBatching = {
      maxQueueDelayUs: delay as number,
      preferredBatchSizes: [...new Set(preferred as number[])].sort((a, b) => a - b),
    };
  }

  const instanceCount = json.instance_count ?? 1;
  if (!isInt(instanceCount, 1)) fail(`"instance_count" must be an integer >= 1`);
  const deterministic = json.deterministic ?? false;
  if (typeof deterministic !== "boolean") fail(`"deterministic" must be true or false`);
  const costWeight = json.cost_weight ?? 1;
  if (typeof costWeight !== "number" || !Number.isFinite(costWeight) || costWeight <= 0) {
    fail(`"cost_weight" must be a positive number`);
  }

  const cacheJson = json.cache ?? {};
  if (typeof cacheJson !== "object" || cacheJson === null || Array.isArray(cacheJson)) fail(`"cache" must be an object like {"ttl_s": 300, "public": false}`);
  const { ttl_s: ttlS = null, public: cachePublic = false } = cacheJson as { ttl_s?: unknown; public?: unknown };
  if (ttlS !== null && !isInt(ttlS, 1)) fail(`"cache.ttl_s" must be an integer >= 1 (seconds)`);
  if (typeof cachePublic !== "boolean") fail(`"cache.public" must be true or false`);

  let executionProviders: ExecutionProvider[] | null = null;
  if (json.execution_providers !== undefined) {
    const eps = json.execution_providers;
    if (!Array.isArray(eps) || eps.length === 0 || !eps.every((p) => typeof p === "string" && isExecutionProvider(p))) {
      fail(`"execution_providers" must be a non-empty list of ${EXECUTION_PROVIDERS.join(", ")}`);
    }
    executionProviders = eps as ExecutionProvider[];
  }

  const sessionThreads = json.session_threads ?? null;
  if (sessionThreads !== null && typeof sessionThreads !== "boolean") fail(`"session_threads" must be true or false`);
  const intraOpThreads = json.intra_op_threads ?? 0;
  if (!isInt(intraOpThreads, 0)) fail(`"intra_op_threads" must be an integer >= 0 (0: onnxruntime's default)`);

  return {
    name: name as string,
    platform: platform as string,
    maxBatchSize,
    inputs,
    outputs,
    dynamicBatching,
    maxQueueSize,
    instanceCount: instanceCount as number,
    deterministic: deterministic as boolean,
    costWeight: costWeight as number,
    cache: { ttlS: ttlS as number | null, public: cachePublic as boolean },
    versionPolicy: parseVersionPolicy(json.version_policy, fail),
    executionProviders,
    sessionThreads: sessionThreads as boolean | null,
    intraOpThreads: intraOpThreads as number,
  };
}

function parseTensors(value: unknown, field: "input" | "output", fail: (p: string) => never): TensorConfig[] {
  if (!Array.isArray(value)) return fail(`"${field}" must be a list of tensors`);
  const seen = new Set<string>();
  return value.map((t: unknown, i): TensorConfig => {
    const where = `"${field}[${i}]"`;
    if (!isObject(t)) return fail(`${where} must be an object`);
    if (typeof t.name !== "string" || t.name === "") return fail(`${where}.name must be a non-empty string`);
    if (seen.has(t.name)) fail(`${field} tensor "${t.name}" is listed twice`);
    seen.add(t.name);
    const datatype = t.datatype;
    if (typeof datatype !== "string" || !isDatatype(datatype)) {
      return fail(`${field} "${t.name}": datatype ${JSON.stringify(datatype)} is not an OIP datatype`);
    }
    // onnxruntime-node has no bfloat16 tensor type, so such a model could load but never run.
    if (datatype === "BF16") fail(`${field} "${t.name}": BF16 is not supported by onnxruntime-node`);
    if (!Array.isArray(t.dims) || !t.dims.every((d) => d === -1 || isInt(d, 1))) {
      return fail(`${field} "${t.name}": dims must be a list of positive integers or -1`);
    }
    const tensor: TensorConfig = { name: t.name, datatype, dims: t.dims as number[] };
    if (t.labels === undefined) return tensor;
    if (field !== "output" || !Array.isArray(t.labels) || !t.labels.every((l) => typeof l === "string")) {
      return fail(`${field} "${t.name}": labels must be a list of strings, on outputs only`);
    }
    return { ...tensor, labels: t.labels as string[] };
  });
}

function parseVersionPolicy(value: unknown, fail: (p: string) => never): VersionPolicy {
  if (value === undefined) return { kind: "latest", count: 1 };
  const problem = `"version_policy" must be {"latest": N}, {"all": true} or {"specific": [versions]}`;
  if (!isObject(value) || Object.keys(value).length !== 1) return fail(problem);
  if (value.latest !== undefined) return isInt(value.latest, 1) ? { kind: "latest", count: value.latest } : fail(problem);
  if (value.all !== undefined) return value.all === true ? { kind: "all" } : fail(problem);
  const specific = value.specific;
  if (Array.isArray(specific) && specific.length > 0 && specific.every((v) => isInt(v, 0))) {
    return { kind: "specific", versions: specific as number[] };
  }
  return fail(problem);
}

/** The tensor's full shape as clients see it: the batch dimension (-1) first when the model batches. */
export function fullShape(config: ModelConfig, tensor: TensorConfig): number[] {
  return config.maxBatchSize > 0 ? [-1, ...tensor.dims] : [...tensor.dims];
}

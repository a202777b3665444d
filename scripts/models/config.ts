// The config.json shape from docs/CONTRACTS.md, and a writer that formats it
// the same way every time (stable key order, short arrays on one line) so the
// files are byte-reproducible and easy to read in review.
import type { Datatype } from "./onnx-graph.js";

export interface TensorConfig {
  name: string;
  datatype: Datatype;
  dims: number[];
  labels?: string[];
}

export interface DynamicBatching {
  max_queue_delay_us: number;
  preferred_batch_sizes: number[];
  max_queue_size: number;
}

export interface ModelConfig {
  name: string;
  platform: "onnxruntime_onnx";
  max_batch_size: number;
  input: TensorConfig[];
  output: TensorConfig[];
  dynamic_batching?: DynamicBatching;
  instance_count: number;
  /** Overrides the worker's SESSION_THREADS for this model. */
  session_threads?: boolean;
  /** onnxruntime intra-op threads per session (0: its default). */
  intra_op_threads?: number;
  deterministic: boolean;
  cost_weight: number;
  /** Edge cache rules (deterministic models only): freshness, and whether tenants may share entries. */
  cache?: { ttl_s: number; public: boolean };
  version_policy: { latest: number };
  execution_providers?: string[];
}

/** JSON with 2-space indent, but arrays of primitives kept on one line. */
export function formatJson(value: unknown, indent = ""): string {
  const inner = indent + "  ";
  if (Array.isArray(value)) {
    if (value.every((v) => v === null || typeof v !== "object")) return `[${value.map((v) => JSON.stringify(v)).join(", ")}]`;
    return `[\n${value.map((v) => inner + formatJson(v, inner)).join(",\n")}\n${indent}]`;
  }
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    if (entries.length === 0) return "{}";
    return `{\n${entries.map(([k, v]) => `${inner}${JSON.stringify(k)}: ${formatJson(v, inner)}`).join(",\n")}\n${indent}}`;
  }
  return JSON.stringify(value);
}

export function configJson(config: ModelConfig): string {
  return formatJson(config) + "\n";
}

// Fakes for the cache unit tests: in-memory tiers and a request context.
import { create } from "@bufbuild/protobuf";
import { ModelInferRequestSchema, ModelInferResponseSchema, type ModelInferRequest, type ModelInferResponse } from "../../../gen/inference/grpc_service_pb.js";
import type { Principal } from "../../../edge/auth/types.js";
import type { CacheStore, StoredEntry } from "../../../edge/cache/store.js";
import type { ModelInfo } from "../../../edge/catalogue/types.js";
import { createRequestContext, type OwnedContext, type RequestScope } from "../../../edge/pipeline/context.js";

export const MODEL: ModelInfo = {
  name: "iris",
  version: "1",
  maxBatchSize: 64,
  deterministic: true,
  costWeight: 1,
  cacheTtlS: 60,
  cachePublic: false,
};

export const ALICE: Principal = { id: "key:a", kind: "api-key", tenant: "alice", plan: "default" };
export const BOB: Principal = { id: "key:b", kind: "api-key", tenant: "bob", plan: "default" };

export function request(values = [1, 2, 3, 4], id = "req-1", outputs: string[] = []): ModelInferRequest {
  return create(ModelInferRequestSchema, {
    modelName: "iris",
    id,
    inputs: [{ name: "input", datatype: "FP32", shape: [1n, 4n] }],
    outputs: outputs.map((name) => ({ name })),
    rawInputContents: [new Uint8Array(new Float32Array(values).buffer)],
  });
}

/** A worker answer: two outputs, bytes derived from the input. */
export function answer(req: ModelInferRequest, size = 8): ModelInferResponse {
  const bytes = new Uint8Array(size).fill(req.rawInputContents[0]![0]!);
  return create(ModelInferResponseSchema, {
    modelName: req.modelName,
    modelVersion: "1",
    id: req.id,
    outputs: [
      { name: "probabilities", datatype: "UINT8", shape: [BigInt(size)] },
      { name: "label", datatype: "UINT8", shape: [1n] },
    ],
    rawOutputContents: [bytes, new Uint8Array([7])],
  });
}

export class MemoryStore implements CacheStore {
  readonly entries = new Map<string, StoredEntry>();
  gets = 0;
  puts = 0;
  failing = false;
  constructor(readonly tier: "l1" | "l2", private readonly now: () => number = Date.now) {}
  async get(key: string) {
    this.gets++;
    if (this.failing) return null;
    const entry = this.entries.get(key);
    return entry !== undefined && entry.expiresAt > this.now() ? entry : null;
  }
  async put(key: string, entry: StoredEntry) {
    this.puts++;
    if (!this.failing) this.entries.set(key, entry);
  }
}

export interface TestContext extends OwnedContext {
  readonly pending: Promise<unknown>[];
  /** Waits for everything handed to waitUntil. */
  settle(): Promise<void>;
}

export function context(headers: Record<string, string> = {}, clientSignal?: AbortSignal): TestContext {
  const pending: Promise<unknown>[] = [];
  const scope: RequestScope = {
    requestId: "r",
    timings: [],
    client: { headers: new Headers(headers), ip: "1.2.3.4" },
    responseHeaders: new Headers(),
    waitUntil: (work) => void pending.push(work),
  };
  const ctx = createRequestContext({ scope, maxTimeoutMs: 5_000, clientSignal });
  return Object.assign(ctx, {
    pending,
    async settle() {
      while (pending.length > 0) await Promise.all(pending.splice(0));
    },
  });
}

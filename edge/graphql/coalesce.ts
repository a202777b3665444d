// Per-request coalescing of `infer` fields (a DataLoader batch function).
// Fields that target the same batchable model with compatible inputs (same
// input names, datatypes, non-batch dimensions and parameters, same
// requested outputs and request parameters) become one ModelInferRequest
// whose inputs are concatenated along dimension 0; the answer is split back
// by rows. Everything else runs as its own call. Each merged call still goes
// through the pipeline, so auth, limits (cost = all rows) and cache apply.
import { create, toBinary } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import {
  InferParameterSchema,
  ModelInferRequestSchema,
  type InferParameter,
  type ModelInferRequest,
  type ModelInferResponse,
} from "../../gen/inference/grpc_service_pb.js";
import { GatewayError } from "../errors.js";
import { decodeResponse, type DecodedTensor, type InferResult } from "./tensors.js";

export interface CoalesceDeps {
  /** Runs one upstream inference through the pipeline. */
  infer(request: ModelInferRequest): Promise<ModelInferResponse>;
  /** The model's max_batch_size (0: not batchable), or null when unknown. */
  maxBatchSize(model: string, version: string): Promise<number | null>;
}

export function createInferBatch(deps: CoalesceDeps) {
  return async (requests: readonly ModelInferRequest[]): Promise<(InferResult | Error)[]> => {
    const results: (InferResult | Error)[] = new Array(requests.length);
    const groups = new Map<string, number[]>();
    requests.forEach((request, index) => {
      const key = compatibilityKey(request) ?? `solo:${index}`;
      const group = groups.get(key);
      if (group === undefined) groups.set(key, [index]);
      else group.push(index);
    });
    await Promise.all(
      [...groups.values()].map(async (indexes) => {
        const first = requests[indexes[0]!]!;
        const limit = indexes.length > 1 ? await deps.maxBatchSize(first.modelName, first.modelVersion).catch(() => null) : null;
        for (const chunk of chunks(indexes, requests, limit)) {
          if (chunk.length === 1) {
            const index = chunk[0]!;
            results[index] = await deps.infer(requests[index]!).then(decodeResponse, asError);
            continue;
          }
          const parts = chunk.map((i) => requests[i]!);
          try {
            const merged = await deps.infer(merge(parts));
            split(merged, parts).forEach((result, j) => (results[chunk[j]!] = result));
          } catch (error) {
            for (const i of chunk) results[i] = asError(error);
          }
        }
      }),
    );
    return results;
  };
}

const asError = (error: unknown): Error => (error instanceof Error ? error : new Error(String(error)));

/** Rows along dimension 0, when every input agrees on it; else null (not mergeable). */
function rowsOf(request: ModelInferRequest): number | null {
  let rows: number | null = null;
  for (const input of request.inputs) {
    if (input.shape.length < 2) return null;
    const r = Number(input.shape[0]);
    if (r < 1 || (rows !== null && r !== rows)) return null;
    rows = r;
  }
  return rows;
}

// Parameters compared by their protobuf encoding with keys sorted, so the
// same map always gives the same key.
function paramsKey(params: Readonly<Record<string, InferParameter>>): string {
  return Object.keys(params)
    .sort()
    .map((k) => `${k}=${Array.from(toBinary(InferParameterSchema, params[k]!)).join(".")}`)
    .join("&");
}

/** Requests with equal keys may be concatenated; null: never merge this one. */
function compatibilityKey(request: ModelInferRequest): string | null {
  // A call with an id can be cancelled by it (cancelInference): it keeps an upstream call of its own.
  if (request.id !== "") return null;
  if (request.inputs.length === 0 || rowsOf(request) === null) return null;
  if (request.rawInputContents.length !== request.inputs.length) return null;
  return JSON.stringify([
    request.modelName,
    request.modelVersion,
    paramsKey(request.parameters),
    request.inputs.map((t) => [t.name, t.datatype, t.shape.slice(1).map(String), paramsKey(t.parameters)]),
    request.outputs.map((o) => [o.name, paramsKey(o.parameters)]),
  ]);
}

/** Splits a group into calls of at most `limit` rows; without a positive limit every request runs alone. */
function chunks(indexes: number[], requests: readonly ModelInferRequest[], limit: number | null): number[][] {
  if (limit === null || limit <= 0) return indexes.map((i) => [i]);
  const out: number[][] = [];
  let current: number[] = [];
  let rows = 0;
  for (const i of indexes) {
    const r = rowsOf(requests[i]!)!;
    if (current.length > 0 && rows + r > limit) {
      out.push(current);
      current = [];
      rows = 0;
    }
    current.push(i);
    rows += r;
  }
  if (current.length > 0) out.push(current);
  return out;
}

/** One request whose inputs are the parts' inputs stacked along dimension 0 (raw bytes concatenate for every datatype). */
export function merge(parts: readonly ModelInferRequest[]): ModelInferRequest {
  const first = parts[0]!;
  const total = parts.reduce((sum, p) => sum + rowsOf(p)!, 0);
  return create(ModelInferRequestSchema, {
    modelName: first.modelName,
    modelVersion: first.modelVersion,
    parameters: first.parameters,
    outputs: first.outputs,
    inputs: first.inputs.map((t) => ({ ...t, shape: [BigInt(total), ...t.shape.slice(1)] })),
    rawInputContents: first.inputs.map((_, i) => concat(parts.map((p) => p.rawInputContents[i]!))),
  });
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.byteLength;
  }
  return out;
}

/** The merged answer cut back into one result per part, by rows. */
export function split(response: ModelInferResponse, parts: readonly ModelInferRequest[]): InferResult[] {
  const whole = decodeResponse(response);
  const total = parts.reduce((sum, p) => sum + rowsOf(p)!, 0);
  for (const output of whole.outputs) {
    if (output.shape[0] !== total) {
      throw new GatewayError(
        Code.Internal,
        `worker sent a malformed response: output "${output.name}" has ${output.shape[0]} rows for ${total} batched rows`,
      );
    }
  }
  let start = 0;
  return parts.map((part) => {
    const rows = rowsOf(part)!;
    const outputs = whole.outputs.map((output): DecodedTensor => {
      const perRow = output.shape.slice(1).reduce((a, b) => a * b, 1);
      const from = start * perRow;
      const to = from + rows * perRow;
      const values = Array.isArray(output.values) ? output.values.slice(from, to) : output.values.subarray(from, to);
      return { ...output, shape: [rows, ...output.shape.slice(1)], values };
    });
    start += rows;
    return { ...whole, id: part.id, outputs };
  });
}

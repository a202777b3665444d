// Model facts for the pipeline (resolved version, cost weight, cacheability),
// read from the worker's ModelMetadata and kept per isolate for a short TTL,
// so a new model version is picked up within CATALOGUE_TTL_MS without a
// metadata round trip on every request. Concurrent lookups share one call.
import { create } from "@bufbuild/protobuf";
import { ModelMetadataRequestSchema, type InferParameter, type ModelMetadataResponse } from "../../gen/inference/grpc_service_pb.js";
import type { RequestContext } from "../pipeline/context.js";
import type { Upstream } from "../upstream/client.js";
import type { ModelCatalogue, ModelInfo } from "./types.js";

export interface CatalogueOptions {
  readonly ttlMs: number;
  readonly now?: () => number;
}

export function createCatalogue(upstream: Upstream, options: CatalogueOptions): ModelCatalogue {
  const now = options.now ?? Date.now;
  const entries = new Map<string, { info: Promise<ModelInfo>; expires: number }>();

  return {
    resolve(name: string, version: string, ctx: RequestContext): Promise<ModelInfo> {
      const key = `${name}\u0000${version}`;
      const cached = entries.get(key);
      if (cached !== undefined && cached.expires > now()) return cached.info;
      const info = upstream
        .call("modelMetadata", create(ModelMetadataRequestSchema, { name, version }), ctx)
        .then((metadata) => modelInfo(metadata, version));
      entries.set(key, { info, expires: now() + options.ttlMs });
      // Failures (unknown model, worker down) are not remembered.
      info.catch(() => {
        if (entries.get(key)?.info === info) entries.delete(key);
      });
      return info;
    },
  };
}

/** Reads the gateway's metadata parameters (see docs/CONTRACTS.md). */
export function modelInfo(metadata: ModelMetadataResponse, requestedVersion: string): ModelInfo {
  const p = metadata.parameters;
  const ttl = numberParam(p["cache_ttl_s"]);
  return {
    name: metadata.name,
    version: stringParam(p["version"]) ?? (requestedVersion || metadata.versions.at(-1) || ""),
    maxBatchSize: numberParam(p["max_batch_size"]) ?? 0,
    deterministic: boolParam(p["deterministic"]) ?? false,
    costWeight: numberParam(p["cost_weight"]) ?? 1,
    cacheTtlS: ttl,
    cachePublic: boolParam(p["cache_public"]) ?? false,
  };
}

function stringParam(p: InferParameter | undefined): string | undefined {
  return p?.parameterChoice.case === "stringParam" ? p.parameterChoice.value : undefined;
}

function boolParam(p: InferParameter | undefined): boolean | undefined {
  return p?.parameterChoice.case === "boolParam" ? p.parameterChoice.value : undefined;
}

function numberParam(p: InferParameter | undefined): number | undefined {
  switch (p?.parameterChoice.case) {
    case "int64Param":
    case "uint64Param":
    case "doubleParam":
      return Number(p.parameterChoice.value);
    default:
      return undefined;
  }
}

// Model facts for the pipeline (resolved version, cost weight, cacheability),
// read from the worker's ModelMetadata and kept per isolate, so a model's
// facts cost one metadata round trip per CATALOGUE_TTL_MS, not one per
// request. "No such model or version" is remembered too, for
// CATALOGUE_NEGATIVE_TTL_MS: a caller repeating an unknown name costs the
// workers nothing. Both kinds share one bounded map (CATALOGUE_MAX_ENTRIES,
// oldest out first), since names are the caller's to invent.
//
// Only settled plain values are shared between requests. An in-flight
// lookup is shared within one request (a GraphQL document with many fields
// for one model makes one call), never across requests: workerd cancels a
// request's I/O when it ends, so a follower waiting on another request's
// call could hang or inherit that request's deadline or cancellation.
import { create } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { ModelMetadataRequestSchema, type InferParameter, type ModelMetadataResponse } from "../../gen/inference/grpc_service_pb.js";
import { GatewayError, toGatewayError } from "../errors.js";
import type { RequestContext, RequestScope } from "../pipeline/context.js";
import type { Upstream } from "../upstream/client.js";
import type { CatalogueConfig } from "./config.js";
import type { ModelCatalogue, ModelInfo } from "./types.js";

export interface CatalogueOptions extends Pick<CatalogueConfig, "ttlMs" | "negativeTtlMs" | "maxEntries"> {
  readonly now?: () => number;
}

type Entry = { readonly expires: number } & ({ readonly info: ModelInfo } | { readonly missing: GatewayError });

export function createCatalogue(upstream: Upstream, options: CatalogueOptions): ModelCatalogue {
  const now = options.now ?? Date.now;
  const entries = new Map<string, Entry>();
  const inflight = new WeakMap<RequestScope, Map<string, Promise<ModelInfo>>>();

  function fresh(key: string): Entry | undefined {
    const entry = entries.get(key);
    if (entry !== undefined && entry.expires <= now()) entries.delete(key);
    return entry !== undefined && entry.expires > now() ? entry : undefined;
  }

  function remember(key: string, entry: Entry, ttlMs: number): void {
    if (ttlMs <= 0) return;
    entries.delete(key);
    entries.set(key, entry);
    if (entries.size > options.maxEntries) entries.delete(entries.keys().next().value as string);
  }

  function lookup(key: string, name: string, version: string, ctx: RequestContext): Promise<ModelInfo> {
    return upstream.call("modelMetadata", create(ModelMetadataRequestSchema, { name, version }), ctx).then(
      (metadata) => {
        const info = modelInfo(metadata, version);
        remember(key, { info, expires: now() + options.ttlMs }, options.ttlMs);
        return info;
      },
      (error: unknown) => {
        // Only the worker's own "no such model" is an answer worth keeping;
        // a timeout or an outage says nothing about the name.
        const answer = toGatewayError(error);
        if (answer.code === Code.NotFound) remember(key, { missing: answer, expires: now() + options.negativeTtlMs }, options.negativeTtlMs);
        throw error;
      },
    );
  }

  return {
    known(name, version) {
      const entry = fresh(`${name}\u0000${version}`);
      return entry !== undefined && "info" in entry ? entry.info : undefined;
    },

    resolve(name, version, ctx) {
      const key = `${name}\u0000${version}`;
      const entry = fresh(key);
      if (entry !== undefined) {
        return "info" in entry ? Promise.resolve(entry.info) : Promise.reject(new GatewayError(entry.missing.code, entry.missing.message));
      }
      const mine = inflight.get(ctx.scope) ?? new Map<string, Promise<ModelInfo>>();
      inflight.set(ctx.scope, mine);
      const pending = mine.get(key);
      if (pending !== undefined) return pending;
      const call = lookup(key, name, version, ctx).finally(() => mine.delete(key));
      mine.set(key, call);
      return call;
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
    inputs: metadata.inputs.map((t) => ({ name: t.name, datatype: t.datatype, shape: t.shape.map(Number) })),
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

// The inference cache: L1 (Workers Cache API, this location) then L2
// (Upstash Redis, global), then the worker, with identical concurrent misses
// sharing one lookup and one upstream call (single-flight).
//
// Per request:
//   model not deterministic, TTL 0, client `no-store`   -> BYPASS (no read, no write, no single-flight)
//   client `no-cache` (or max-age=0)                    -> MISS: skip the read, call the worker, refresh both tiers
//   otherwise: key -> L1 -> L2 (backfills L1)           -> HIT
//              -> worker, store both tiers              -> MISS
// Writes and backfills go through waitUntil, after the response. A tier that
// fails reads as a miss (see redis-store.ts); the cache never fails a request.
//
// What the client sees, on every protocol (ctx.scope.responseHeaders):
//   x-cache: HIT | MISS | BYPASS
//   Cache-Status (RFC 9211): `edge; hit; detail=l1|l2`, `edge; fwd=miss[; stored]`,
//     `edge; fwd=miss; collapsed` (shared another request's call), `edge; fwd=request` (no-cache),
//     `...; detail=leader-failed` (joined a flight that failed, then got its answer anew),
//     `edge; fwd=bypass; detail=...`
//   Server-Timing: `cache;dur=<ms>;desc="l1|l2|miss|coalesced|revalidate|bypass"`
//     (key + lookups; the upstream call has its own `upstream` entry)
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { ModelInferResponseSchema, type ModelInferRequest, type ModelInferResponse } from "../../gen/inference/grpc_service_pb.js";
import type { RequestContext } from "../pipeline/context.js";
import type { CacheConfig } from "./config.js";
import { clientCacheMode } from "./control.js";
import { cacheKey } from "./key.js";
import { SingleFlight } from "./single-flight.js";
import { warnOnce, type CacheStore, type StoredEntry } from "./store.js";
import type { CacheInput, InferenceCache } from "./types.js";

export interface TieredCacheOptions {
  /** Tiers in lookup order (normally L1 then L2); empty is allowed (single-flight only). */
  readonly stores: readonly CacheStore[];
  readonly now?: () => number;
}

/**
 * Flights a follower joins before it does the work alone: the first one's
 * leader may fail for reasons of its own; a second failure in a row is
 * likely the work's, and then each caller hears it from its own call.
 */
const MAX_ROUNDS = 2;

/** Which tier answered a flight; "upstream" when the worker did. */
type Source = "l1" | "l2" | "upstream";

interface Outcome {
  readonly response: ModelInferResponse;
  readonly source: Source;
  /** For worker answers: whether it went to the tiers (false above the size cap). */
  readonly stored?: boolean;
}

export function createTieredCache(config: Pick<CacheConfig, "defaultTtlS" | "maxEntryBytes">, options: TieredCacheOptions): InferenceCache {
  const now = options.now ?? Date.now;
  const stores = options.stores;
  const flights = new SingleFlight<Outcome>();

  /** Stores a fresh worker answer in every tier (background); false when it is not stored. The caller's id is not stored. */
  function store(ctx: RequestContext, key: string, response: ModelInferResponse, ttlS: number): boolean {
    if (stores.length === 0) return false;
    let bytes: Uint8Array;
    try {
      bytes = toBinary(ModelInferResponseSchema, response.id === "" ? response : { ...response, id: "" });
    } catch (error) {
      warnOnce("encode", "could not encode an inference response for the cache", error);
      return false;
    }
    // Too large: served, not stored (and not worth a round trip to Redis).
    if (bytes.byteLength > config.maxEntryBytes) return false;
    const entry: StoredEntry = { bytes, expiresAt: now() + ttlS * 1000 };
    ctx.scope.waitUntil(Promise.all(stores.map((s) => s.put(key, entry))));
    return true;
  }

  /** L1, then L2 (backfilling the tiers before it), then null. */
  async function lookup(ctx: RequestContext, key: string): Promise<Outcome | null> {
    for (let i = 0; i < stores.length; i++) {
      const tier = stores[i]!;
      const entry = await tier.get(key);
      if (entry === null) continue;
      let response: ModelInferResponse;
      try {
        response = fromBinary(ModelInferResponseSchema, entry.bytes);
      } catch (error) {
        // A corrupt entry is a miss; the fresh answer will overwrite it.
        warnOnce("decode", `unreadable ${tier.tier} cache entry; treating as a miss`, error);
        continue;
      }
      if (i > 0) ctx.scope.waitUntil(Promise.all(stores.slice(0, i).map((s) => s.put(key, entry))));
      return { response, source: tier.tier };
    }
    return null;
  }

  return {
    async through(input: CacheInput, ctx: RequestContext, miss: () => Promise<ModelInferResponse>): Promise<ModelInferResponse> {
      const started = now();
      // When this request's own lookup ended: the MISS timing covers key and
      // lookups only, not the upstream call (Server-Timing reports that itself).
      let lookedUpAt: number | undefined;
      const headers = ctx.scope.responseHeaders;
      const timing = (desc: string): void => {
        ctx.scope.timings.push({ name: "cache", durationMs: now() - started, description: desc });
      };
      const bypass = (why: string): Promise<ModelInferResponse> => {
        headers.set("x-cache", "BYPASS");
        headers.set("cache-status", `edge; fwd=bypass; detail=${why}`);
        timing("bypass");
        return miss();
      };

      const { model, request, principal } = input;
      if (!model.deterministic) return bypass("not-deterministic");
      const ttlS = ttlFor(model.cacheTtlS, config.defaultTtlS);
      if (ttlS === 0) return bypass("ttl-0");
      const mode = clientCacheMode(ctx.scope.client.headers);
      if (mode === "no-store") return bypass("no-store");

      const key = await cacheKey(principal, model, request);
      if (key === null) return bypass("uncacheable-request");

      if (mode === "no-cache") {
        // Revalidate: always a fresh answer, which then replaces the entry.
        // Not joined to a flight: the client asked for its own upstream call.
        headers.set("x-cache", "MISS");
        headers.set("cache-status", "edge; fwd=request");
        timing("revalidate");
        const response = await miss();
        if (store(ctx, key, response, ttlS)) headers.set("cache-status", "edge; fwd=request; stored");
        return response;
      }

      // Identical concurrent misses share one flight. A follower takes the
      // flight's answer, never its error (the leader's deadline, cancellation
      // or input are not the follower's): when the flight fails it goes round
      // again, joining a newer flight or leading one, and after MAX_ROUNDS
      // flights it does the work alone.
      let leaderFailed = false;
      for (let round = 1; ; round++) {
        const running = flights.get(key);
        if (running === undefined || round > MAX_ROUNDS) {
          const outcome = running === undefined ? await lead() : await lookupOrFetch();
          report(outcome, false, leaderFailed);
          // Hits are decoded once per flight and shared: each caller gets its own shallow copy.
          return outcome.source === "upstream" ? outcome.response : forCaller(outcome.response, request);
        }
        const joined = await flights.join(running, ctx.signal);
        if (joined.ok) {
          report(joined.value, true, leaderFailed);
          return forCaller(joined.value.response, request);
        }
        leaderFailed = true;
      }

      /** Runs the lookup and the call as the flight for `key`; this request's own outcome or error. */
      async function lead(): Promise<Outcome> {
        const flight = flights.start(key!, lookupOrFetch);
        // Keeps this request alive until its followers have been told (on
        // Cloudflare a request can otherwise end while its work settles).
        ctx.scope.waitUntil(flight.settled);
        const settled = await flight.settled;
        if (!settled.ok) throw settled.error;
        return settled.value;
      }

      async function lookupOrFetch(): Promise<Outcome> {
        const hit = await lookup(ctx, key!);
        if (hit !== null) return hit;
        lookedUpAt = now();
        const response = await miss();
        return { response, source: "upstream", stored: store(ctx, key!, response, ttlS) };
      }

      function report({ source, stored }: Outcome, follower: boolean, leaderFailed: boolean): void {
        if (source === "upstream") {
          headers.set("x-cache", "MISS");
          const status = follower ? "edge; fwd=miss; collapsed" : stored ? "edge; fwd=miss; stored" : "edge; fwd=miss";
          headers.set("cache-status", leaderFailed ? `${status}; detail=leader-failed` : status);
          if (follower) timing("coalesced");
          else ctx.scope.timings.push({ name: "cache", durationMs: (lookedUpAt ?? now()) - started, description: "miss" });
        } else {
          headers.set("x-cache", "HIT");
          headers.set("cache-status", `edge; hit; detail=${source}${follower ? "; collapsed" : ""}`);
          timing(source);
        }
      }
    },
  };
}

/** The model's TTL when it sets one, else the edge default; whole seconds, 0 = do not cache. */
export function ttlFor(modelTtlS: number | undefined, defaultTtlS: number): number {
  if (modelTtlS === undefined || !Number.isFinite(modelTtlS)) return defaultTtlS;
  return Math.max(0, Math.floor(modelTtlS));
}

/**
 * A shared (cached or coalesced) answer as this caller should see it: its own
 * request id and, when it named outputs, the outputs in its order. A shallow
 * copy: tensor bytes are shared, never copied.
 */
export function forCaller(response: ModelInferResponse, request: ModelInferRequest): ModelInferResponse {
  const copy: ModelInferResponse = { ...response, id: request.id };
  const wanted = request.outputs;
  if (wanted.length < 2 || wanted.length !== response.outputs.length) return copy;
  if (wanted.every((o, i) => o.name === response.outputs[i]!.name)) return copy;
  const raw = response.rawOutputContents;
  const outputs: ModelInferResponse["outputs"] = [];
  const rawOut: Uint8Array[] = [];
  for (const { name } of wanted) {
    const index = response.outputs.findIndex((o) => o.name === name);
    if (index < 0) return copy;
    outputs.push(response.outputs[index]!);
    if (raw.length > 0) rawOut.push(raw[index]!);
  }
  copy.outputs = outputs;
  copy.rawOutputContents = rawOut;
  return copy;
}

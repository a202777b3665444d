// Readiness as the edge reports it (/v2/health/ready, ServerReady, GraphQL
// `health`): probes need no credentials, so each one must not become a worker
// call. The last answer is reused for READY_CACHE_TTL_MS; after that the
// first probe refreshes it while concurrent probes keep answering from the
// answer it replaces (stale while revalidating, at most one refresh in
// flight per isolate), so a probe flood costs at most one worker call per
// TTL, however long a refresh takes (a hanging pool is bounded by the
// request deadline). A probe that arrives while the isolate's very first
// reading is being taken has nothing to reuse: it answers not ready rather
// than make a call of its own (the next probe knows).
//
// Only the settled boolean is shared between requests, never the refresh's
// promise (see catalogue.ts for why).
import type { RequestContext } from "../pipeline/context.js";

export interface ReadyCacheOptions {
  readonly ttlMs: number;
  readonly now?: () => number;
}

export type ReadyProbe = (ctx: RequestContext) => Promise<boolean>;

/** Wraps `probe` (one worker call) so its answers are reused as described above. */
export function cachedReadiness(probe: ReadyProbe, options: ReadyCacheOptions): ReadyProbe {
  const now = options.now ?? Date.now;
  let last: { ready: boolean; at: number } | null = null;
  let refreshing = false;

  return async (ctx) => {
    if (last !== null && now() - last.at < options.ttlMs) return last.ready;
    if (refreshing) return last?.ready ?? false;
    refreshing = true;
    try {
      const ready = await probe(ctx);
      last = { ready, at: now() };
      return ready;
    } finally {
      refreshing = false;
    }
  };
}

// Scenario 3, `edge-cache`: the edge's inference cache and its protection
// costs, side by side with a bare Worker returning the same bytes. Every row
// runs the edge bundle under `workerd serve` (bench/workerd/), the same iris
// REST request each time, driven by wrk like the other edge rows.
//
// L1 is the Workers Cache API. workerd has no cache unless the config names a
// `cacheApiOutbound` service (without one every `caches` call throws and the
// edge reads it as a miss), so these edges get one: bench/workerd/cache-service.ts,
// an in-memory Cache API backend inside the same workerd process. The L2 row
// uses the same service in "empty" mode: every L1 lookup is made and misses,
// as at a location that has not seen the entry, and the answer comes from
// Redis (the edge has no switch to turn L1 off; none is needed).
//
// Redis is a private stack (test/support/redis-stack.ts: own redis-server on a
// free port + the Upstash REST bridge in this process); its work per request
// is counted in a probe of sequential requests before each row's load runs.
import { createKey } from "../../scripts/keys/commands.js";
import { compatibilityDate } from "../../test/support/edge-runtime.js";
import { irisRestBody } from "../../test/support/iris.js";
import { EDGE_BUNDLE_DIR } from "../../test/support/paths.js";
import { startRedisStack, type RedisStack } from "../../test/support/redis-stack.js";
import type { WorkerHandle } from "../../test/support/worker-process.js";
import { selected, type BenchConfig } from "../lib/config.js";
import { startRedisCounter, type RedisCounter } from "../lib/redis-count.js";
import { message, skippedRow } from "../lib/row.js";
import type { PostTarget } from "../lib/tools.js";
import type { RedisPerRequest, Row } from "../lib/types.js";
import type { FixedAnswer } from "../workerd/bare-worker.js";
import { writeCacheService, type CacheServiceMode } from "../workerd/cache-service.js";
import { bundleModules, compatibilityFlags, serveWorkerd, type WorkerdHandle } from "../workerd/serve.js";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { scratchDir } from "../lib/tools.js";
import { buildEdge, http1Row, startBareWorkerd } from "./edge.js";
import { startBenchWorker } from "./worker.js";

export const CACHE_IDS = ["cache-bare", "cache-l1-ceiling", "cache-l1-open", "cache-l1-anon", "cache-l1-key", "cache-l2", "cache-miss"] as const;
export type CacheRowId = (typeof CACHE_IDS)[number];

export const CACHE_LABELS: Record<CacheRowId, string> = {
  "cache-bare": "bare Worker, same bytes as the L1 hit",
  "cache-l1-ceiling": "bare Worker answering from the same Cache API service",
  "cache-l1-open": "L1 hit, anonymous, no Redis configured",
  "cache-l1-anon": "L1 hit, anonymous + rate limit (per IP)",
  "cache-l1-key": "L1 hit, API key + rate limits",
  "cache-l2": "L2 hit (L1 lookup misses), API key + rate limits",
  "cache-miss": "miss (no-cache: worker, refresh), API key + rate limits",
};

/** A plan no bench run can exhaust, so no row ever sees a 429. */
const BENCH_PLAN = "bench";
const PLANS = JSON.stringify({ [BENCH_PLAN]: { requests: 1_000_000_000, cost: 1_000_000_000, window_s: 60, models: "*" } });
/**
 * The bridge shares the 2 cores with wrk, workerd and the worker; under c=32
 * a 200 ms budget (the default) could fail open and skip the very work being
 * measured, so the bench allows 1 s.
 */
const REDIS_TIMEOUT_MS = "1000";

export interface ScenarioHooks {
  progress(line: string): void;
  /** Runs `fn` as a row; a throw becomes a skipped row (run.ts's attempt). */
  attempt(rows: Row[], base: Row, fn: () => Promise<Row | Row[]>): Promise<void>;
  /** Registers teardown for an interrupted run. */
  onCleanup(fn: () => Promise<unknown>): void;
}

interface Expect {
  status: 200;
  xCache: "HIT" | "MISS";
  /** Server-Timing `cache;...;desc="..."`. */
  desc: "l1" | "l2" | "revalidate";
}

interface ProbeResult {
  redis: RedisPerRequest;
  /** The last answer (body and content type), for the bare Worker. */
  answer: FixedAnswer;
  note: string;
}

function restTarget(baseUrl: string, headers: Record<string, string>): PostTarget {
  return {
    url: `${baseUrl}/v2/models/iris/infer`,
    body: new TextEncoder().encode(JSON.stringify(irisRestBody())),
    headers: { "content-type": "application/json", ...headers },
  };
}

/** `desc` of the Server-Timing `cache` entry, or null. */
function cacheDesc(serverTiming: string | null): string | null {
  for (const part of (serverTiming ?? "").split(",")) {
    const fields = part.trim().split(";").map((f) => f.trim());
    if (fields[0] !== "cache") continue;
    const desc = fields.find((f) => f.startsWith("desc="));
    return desc ? desc.slice(5).replace(/^"|"$/g, "") : "";
  }
  return null;
}

async function send(target: PostTarget): Promise<{ status: number; xCache: string | null; desc: string | null; serverTiming: string | null; body: Uint8Array; contentType: string }> {
  const response = await fetch(target.url, { method: "POST", headers: target.headers, body: target.body, signal: AbortSignal.timeout(10_000) });
  const body = new Uint8Array(await response.arrayBuffer());
  return {
    status: response.status,
    xCache: response.headers.get("x-cache"),
    desc: cacheDesc(response.headers.get("server-timing")),
    serverTiming: response.headers.get("server-timing"),
    body,
    contentType: response.headers.get("content-type") ?? "application/json",
  };
}

/** Waits until no bridge request arrived for `quietMs` (background waitUntil work done), at most `maxMs`. */
async function settle(counter: RedisCounter | undefined, quietMs = 150, maxMs = 3_000): Promise<void> {
  if (!counter) return;
  const deadline = Date.now() + maxMs;
  let last = counter.trips;
  let quietSince = Date.now();
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 25));
    if (counter.trips !== last) {
      last = counter.trips;
      quietSince = Date.now();
    } else if (Date.now() - quietSince >= quietMs) return;
  }
}

/**
 * `n` sequential requests (bounded by count and by `maxSeconds`), each checked
 * against `expect`; Redis work counted over exactly these requests (plus the
 * background work they started). Throws when any answer is not the expected kind.
 */
async function probe(target: PostTarget, expect: Expect, n: number, counter: RedisCounter | undefined, maxSeconds = 20): Promise<ProbeResult> {
  await settle(counter);
  await counter?.snapshot();
  const deadline = Date.now() + maxSeconds * 1000;
  let done = 0;
  let last: Awaited<ReturnType<typeof send>> | undefined;
  const wrong = new Map<string, number>();
  while (done < n && Date.now() < deadline) {
    last = await send(target);
    done++;
    if (last.status !== expect.status || last.xCache !== expect.xCache || last.desc !== expect.desc) {
      const what = `${last.status} x-cache=${last.xCache} desc=${last.desc}${last.status === 200 ? "" : ` ${new TextDecoder().decode(last.body).slice(0, 160)}`}`;
      wrong.set(what, (wrong.get(what) ?? 0) + 1);
    }
  }
  await settle(counter);
  const counts = counter ? await counter.snapshot() : { trips: 0, pipelines: 0, commands: {} as Record<string, number> };
  if (done === 0 || last === undefined) throw new Error("probe sent no request");
  if (wrong.size > 0) {
    const list = [...wrong].map(([w, c]) => `${c}x ${w}`).join(", ");
    throw new Error(`expected ${expect.status} x-cache: ${expect.xCache}, Server-Timing cache desc="${expect.desc}" on all ${done} probe requests; got ${list}`);
  }
  const per = (v: number) => v / done;
  const byCommand: Record<string, number> = {};
  let commands = 0;
  for (const [name, calls] of Object.entries(counts.commands)) {
    byCommand[name] = per(calls);
    commands += calls;
  }
  const redis: RedisPerRequest = { requests: done, trips: per(counts.trips), pipelines: per(counts.pipelines), commands: per(commands), byCommand };
  const names = Object.entries(byCommand)
    .sort((a, b) => b[1] - a[1])
    .map(([name, v]) => `${name} ${v.toFixed(2)}`)
    .join(", ");
  const note =
    `checked ${done}/${done}: x-cache ${expect.xCache}, cache desc="${expect.desc}"; ` +
    (counter ? `Redis per request: ${redis.trips.toFixed(2)} trips (${redis.pipelines.toFixed(2)} pipelines), ${redis.commands.toFixed(2)} commands${names ? ` (${names})` : ""}` : "no Redis configured");
  const timing = last.serverTiming ? `; last Server-Timing: ${last.serverTiming}` : "";
  return { redis, answer: { status: last.status, contentType: last.contentType, body: last.body, xCache: last.xCache }, note: note + timing };
}

/**
 * The L1 ceiling: a Worker that does only what an L1 hit must (one Cache API
 * match on the same service, read the body) and returns those bytes.
 */
function startCacheCeiling(answer: FixedAnswer): Promise<WorkerdHandle> {
  const source = `// Generated by bench/targets/edge-cache.ts
const BODY = Uint8Array.from(atob(${JSON.stringify(Buffer.from(answer.body).toString("base64"))}), (c) => c.charCodeAt(0));
const URL_KEY = "https://cache.invalid/bench-ceiling";
let opened;
export default {
  async fetch(request) {
    if (request.body) await request.arrayBuffer();
    const cache = await (opened ??= caches.open("inference"));
    let hit = await cache.match(URL_KEY);
    if (hit === undefined) {
      await cache.put(URL_KEY, new Response(BODY, { headers: { "cache-control": "max-age=3600" } }));
      hit = await cache.match(URL_KEY);
    }
    const body = hit === undefined ? BODY : new Uint8Array(await hit.arrayBuffer());
    return new Response(body, { status: ${answer.status}, headers: { "content-type": ${JSON.stringify(answer.contentType)}, "x-cache": hit === undefined ? "MISS" : "HIT" } });
  },
};
`;
  const file = join(scratchDir(), "cache-ceiling-worker.js");
  writeFileSync(file, source);
  return serveWorkerd({
    modules: [{ file, module: { name: "ceiling.js", kind: "esModule" } }],
    compatibilityDate: compatibilityDate(),
    compatibilityFlags: compatibilityFlags(),
    cacheService: writeCacheService("memory"),
  });
}

async function startCacheEdge(vars: Record<string, string>, mode: CacheServiceMode): Promise<WorkerdHandle> {
  return serveWorkerd({
    modules: bundleModules(EDGE_BUNDLE_DIR),
    compatibilityDate: compatibilityDate(),
    compatibilityFlags: compatibilityFlags(),
    textBindings: vars,
    cacheService: writeCacheService(mode),
    readyPath: "/v2/health/live",
  });
}

export async function edgeCache(config: BenchConfig, rows: Row[], hooks: ScenarioHooks): Promise<void> {
  const want = (id: CacheRowId) => selected(config, id, "edge-cache", "cache");
  const wanted = CACHE_IDS.filter(want);
  if (wanted.length === 0) return;
  const { progress, attempt } = hooks;
  const row = (id: CacheRowId): Row => ({ scenario: "edge-cache", id, label: CACHE_LABELS[id] });
  const plan = { concurrency: config.irisConcurrency, seconds: config.seconds, requests: config.requests };
  const probeRequests = config.cacheProbeRequests;
  const skipAll = (why: string, ids: readonly CacheRowId[] = wanted) => {
    for (const id of ids) if (!rows.some((r) => r.id === id)) rows.push(skippedRow(row(id), why));
  };

  let worker: WorkerHandle | undefined;
  let stack: RedisStack | undefined;
  let counter: RedisCounter | undefined;
  let key = "";
  const stops: (() => Promise<unknown>)[] = [];
  const stopAll = async () => {
    while (stops.length) await stops.pop()!().catch(() => undefined);
  };
  hooks.onCleanup(stopAll);
  try {
    try {
      progress("edge-cache: bundling the edge, starting a worker and a private Redis stack");
      await buildEdge();
      worker = await startBenchWorker(config.irisBatching);
      stops.push(() => worker!.stop());
      stack = await startRedisStack();
      stops.push(() => stack!.close());
      counter = await startRedisCounter(stack.restUrl, stack.redisPort);
      stops.push(() => counter!.close());
      ({ key } = await createKey(stack.client(), { tenant: "bench", plan: BENCH_PLAN, name: "bench", plansJson: PLANS }));
    } catch (error) {
      console.error("[bench] edge-cache setup failed:", error);
      skipAll(`setup failed: ${message(error)}`);
      return;
    }
    const w = worker;
    const s = stack;
    const c = counter;
    const auth = { authorization: `Bearer ${key}` };
    const base = { ...config.edgeVars, WORKER_URLS: w.url, PLANS, AUTH_ANONYMOUS_PLAN: BENCH_PLAN };
    const withRedis = { ...base, ...s.edgeVars(), REDIS_TIMEOUT_MS };
    const hit = (desc: "l1" | "l2"): Expect => ({ status: 200, xCache: "HIT", desc });
    let answer: FixedAnswer | undefined;

    /** One edge process for `ids`, each measured after its probe; the edge is stopped before the next one starts. */
    async function onEdge(
      what: string,
      vars: Record<string, string>,
      mode: CacheServiceMode,
      plans: { id: CacheRowId; headers: Record<string, string>; expect: Expect; counted: boolean; note?: string }[],
    ): Promise<void> {
      const mine = plans.filter((p) => want(p.id));
      if (mine.length === 0) return;
      let edge: WorkerdHandle;
      try {
        progress(`edge-cache: workerd serve, ${what}`);
        edge = await startCacheEdge(vars, mode);
        stops.push(() => edge.stop());
      } catch (error) {
        console.error(`[bench] edge-cache ${what} failed to start:`, error);
        skipAll(`workerd serve failed: ${message(error)}`, mine.map((p) => p.id));
        return;
      }
      try {
        // Fill the tiers (a miss stores the answer in L1 and, with Redis, L2).
        const first = await send(restTarget(edge.url, plans[0]!.headers));
        if (first.status !== 200) throw new Error(`first request answered ${first.status}: ${new TextDecoder().decode(first.body).slice(0, 300)}`);
        await settle(c);
        for (const p of mine) {
          const r = row(p.id);
          await attempt(rows, r, async () => {
            const target = restTarget(edge.url, p.headers);
            progress(`  ${p.id}: probe (${probeRequests} checked requests, Redis counted)`);
            const checked = await probe(target, p.expect, probeRequests, p.counted ? c : undefined);
            if (p.id === "cache-l1-key") answer = checked.answer;
            answer ??= p.expect.xCache === "HIT" ? checked.answer : undefined;
            r.notes = [checked.note, ...(p.note ? [p.note] : [])];
            r.redis = checked.redis;
            return http1Row(config, r, target, plan, progress);
          });
        }
      } catch (error) {
        console.error(`[bench] edge-cache ${what} failed:`, error);
        skipAll(message(error), mine.map((p) => p.id));
      } finally {
        await edge.stop();
      }
    }

    await onEdge("anonymous, no Redis, L1 (memory cache service)", base, "memory", [
      { id: "cache-l1-open", headers: {}, expect: hit("l1"), counted: true, note: "no auth or rate-limit work: the baseline for their cost" },
    ]);
    await onEdge("Redis + API key, L1 (memory cache service)", withRedis, "memory", [
      { id: "cache-l1-key", headers: auth, expect: hit("l1"), counted: true },
      { id: "cache-l1-anon", headers: {}, expect: hit("l1"), counted: true },
      { id: "cache-miss", headers: { ...auth, "cache-control": "no-cache" }, expect: { status: 200, xCache: "MISS", desc: "revalidate" }, counted: true, note: "cache-control: no-cache" },
    ]);
    await onEdge("Redis + API key, L1 always empty (L2 hits)", withRedis, "empty", [
      { id: "cache-l2", headers: auth, expect: hit("l2"), counted: true, note: "L1: Cache API service that never holds the entry" },
    ]);

    if (want("cache-bare")) {
      const r = row("cache-bare");
      await attempt(rows, r, async () => {
        if (!answer) throw new Error("no L1-hit answer to replay (the L1 rows failed or were not selected)");
        progress("edge-cache: workerd serve, bare Worker");
        const bare = await startBareWorkerd(answer);
        stops.push(() => bare.stop());
        try {
          r.notes = [`${answer.body.byteLength} B body, ${answer.contentType}; no edge headers (x-cache, server-timing, ratelimit)`];
          return await http1Row(config, r, { url: `${bare.url}/v2/models/iris/infer`, body: restTarget("", {}).body, headers: { "content-type": "application/json" } }, plan, progress);
        } finally {
          await bare.stop();
        }
      });
    }
    if (want("cache-l1-ceiling")) {
      const r = { ...row("cache-l1-ceiling"), reference: true };
      await attempt(rows, r, async () => {
        if (!answer) throw new Error("no L1-hit answer to replay (the L1 rows failed or were not selected)");
        progress("edge-cache: workerd serve, bare Worker + Cache API (L1 ceiling)");
        const ceiling = await startCacheCeiling(answer);
        stops.push(() => ceiling.stop());
        try {
          const target = { url: `${ceiling.url}/v2/models/iris/infer`, body: restTarget("", {}).body, headers: { "content-type": "application/json" } };
          const first = await send(target);
          await send(target);
          const second = await send(target);
          if (first.status !== 200 || second.xCache !== "HIT") throw new Error(`the ceiling Worker's Cache API did not hit (status ${second.status}, x-cache ${second.xCache})`);
          r.notes = ["one Cache API match per request on the same in-process service: what any L1 hit costs here beyond the bare Worker"];
          return await http1Row(config, r, target, plan, progress);
        } finally {
          await ceiling.stop();
        }
      });
    }
  } finally {
    await stopAll();
  }
  // Table order: bare first, then the tiers from fastest to slowest.
  const order = new Map(CACHE_IDS.map((id, i) => [id as string, i]));
  const mine = rows.filter((r) => r.scenario === "edge-cache").sort((a, b) => order.get(a.id)! - order.get(b.id)!);
  const others = rows.filter((r) => r.scenario !== "edge-cache");
  rows.splice(0, rows.length, ...others, ...mine);
}


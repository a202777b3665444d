// The inference cache end to end: the edge bundle in workerd (Miniflare),
// a real worker process, a private redis-server behind our Upstash REST
// bridge. "Did it reach the worker?" is answered by the worker's own
// Prometheus counter, never by the edge's word.
//
// Each test uses its own input rows, so entries from one test never answer
// another. Two Miniflare instances do not share a Cache API (each keeps its
// own in memory), which is how the L2 tier is observed: the second edge has
// a cold L1 and the same Redis.
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ModelInferRequestSchema, type ModelInferRequest, type ModelInferResponse } from "../../gen/inference/grpc_service_pb.js";
import { generateApiKey, hashApiKey, recordKey } from "../../edge/auth/api-keys.js";
import { cacheKey } from "../../edge/cache/key.js";
import { createKey } from "../../scripts/keys/commands.js";
import { edgeClient, restCall, workerClient } from "../support/clients.js";
import { startEdge, type EdgeHandle } from "../support/edge-runtime.js";
import { MODELS, ROOT } from "../support/paths.js";
import { startRedisStack, type RedisStack } from "../support/redis-stack.js";
import { plainOutputs } from "../support/tensors.js";
import { metricValue, startWorker, type WorkerHandle } from "../support/worker-process.js";

let repository: string;
let worker: WorkerHandle;
let redis: RedisStack;
let edge: EdgeHandle;
/** A second edge: same worker and Redis, its own (cold) L1. */
let edge2: EdgeHandle;

beforeAll(async () => {
  // A private repository: iris (public, 3600 s), `irisp` (the same model
  // with tenant-private results) and the non-deterministic `slow` fixture;
  // the version test later adds iris/2 to it.
  repository = mkdtempSync(join(tmpdir(), "cache-models-"));
  cpSync(join(MODELS, "iris"), join(repository, "iris"), { recursive: true });
  cpSync(join(MODELS, "iris"), join(repository, "irisp"), { recursive: true });
  const irisp = JSON.parse(readFileSync(join(repository, "irisp/config.json"), "utf8"));
  writeFileSync(join(repository, "irisp/config.json"), JSON.stringify({ ...irisp, name: "irisp", cache: { ttl_s: 600, public: false } }));
  cpSync(join(ROOT, "test/fixtures/models/slow"), join(repository, "slow"), { recursive: true });
  // `gated`: the slow fixture made cacheable (public) and unbatched, so every
  // call is its own ~300 ms run on one instance, in arrival order: calls sent
  // straight to the worker ahead of an edge call hold that call in the
  // worker's queue for as long as the test needs (see holdWorker).
  cpSync(join(ROOT, "test/fixtures/models/slow"), join(repository, "gated"), { recursive: true });
  const { dynamic_batching: _unbatched, ...slow } = JSON.parse(readFileSync(join(repository, "gated/config.json"), "utf8"));
  writeFileSync(join(repository, "gated/config.json"), JSON.stringify({ ...slow, name: "gated", deterministic: true, cache: { ttl_s: 600, public: true } }));
  [worker, redis] = await Promise.all([startWorker({ repository }), startRedisStack()]);
  const vars = {
    WORKER_URLS: worker.url,
    ...redis.edgeVars(),
    REDIS_TIMEOUT_MS: "300",
    // Anonymous callers share the tenant "anonymous"; API keys below give two more.
    AUTH_ANONYMOUS_PLAN: "development",
    RATE_LIMIT_FAILURE_MODE: "open",
  };
  [edge, edge2] = await Promise.all([startEdge(vars), startEdge(vars)]);
});

afterAll(async () => {
  await Promise.all([edge?.dispose(), edge2?.dispose()]);
  await worker?.stop();
  await redis?.close();
  if (repository) rmSync(repository, { recursive: true, force: true });
});

let seed = 0;
/** Rows no other test uses. */
function freshRows(n = 2): number[][] {
  seed += 1;
  return Array.from({ length: n }, (_, i) => [4 + seed / 64, 3 + i / 8, 1.5, 0.25]);
}

const irisBody = (rows: number[][], id?: string) => ({
  ...(id === undefined ? {} : { id }),
  inputs: [{ name: "input", datatype: "FP32", shape: [rows.length, 4], data: rows }],
});

function irisConnectRequest(rows: number[][], raw: boolean, id = ""): ModelInferRequest {
  const values = new Float32Array(rows.flat());
  return create(ModelInferRequestSchema, {
    modelName: "iris",
    id,
    inputs: [{ name: "input", datatype: "FP32", shape: [BigInt(rows.length), 4n], ...(raw ? {} : { contents: { fp32Contents: Array.from(values) } }) }],
    rawInputContents: raw ? [new Uint8Array(values.buffer)] : [],
  });
}

async function workerCalls(model = "iris"): Promise<number> {
  return metricValue(await worker.metrics(), "worker_inference_requests_total", `model="${model}"`);
}

async function rest(base: string, rows: number[][], headers: Record<string, string> = {}, id?: string) {
  const r = await restCall(`${base}/v2/models/iris/infer`, irisBody(rows, id), { headers });
  expect(r.status, r.text).toBe(200);
  return { ...r, xCache: r.headers.get("x-cache"), timing: r.headers.get("server-timing") ?? "" };
}

async function connect(base: string, request: ModelInferRequest, headers: Record<string, string> = {}) {
  let responseHeaders = new Headers();
  const response = await edgeClient(base, "connect-binary", headers).modelInfer(request, {
    onHeader: (h) => (responseHeaders = h),
  });
  return { response, xCache: responseHeaders.get("x-cache"), timing: responseHeaders.get("server-timing") ?? "" };
}

/** The key the edge uses for these iris rows (iris is public: no tenant prefix). */
async function irisKey(rows: number[][], version = "1"): Promise<string> {
  const model = { name: "iris", version, maxBatchSize: 64, deterministic: true, costWeight: 1, cacheTtlS: 3600, cachePublic: true };
  const principal = { id: "ip:x", kind: "anonymous", tenant: "anonymous", plan: "default" } as const;
  return (await cacheKey(principal, model, irisConnectRequest(rows, true)))!;
}

async function until<T>(what: string, fn: () => Promise<T | undefined | null | false>, timeoutMs = 5_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const storedInRedis = (key: string) => until(`${key} in Redis`, async () => (await redis.client().get<string>(key)) ?? null);

describe("inference cache (L1 Cache API, L2 Redis)", () => {
  it("REST: miss, then a hit that does not reach the worker, with the caller's own id", async () => {
    const rows = freshRows();
    const before = await workerCalls();
    const miss = await rest(edge.url, rows, {}, "first");
    expect(miss.xCache).toBe("MISS");
    expect(miss.json.id).toBe("first");
    expect(miss.timing).toMatch(/cache;dur=\d+;desc="miss"/);
    expect(miss.timing).toMatch(/upstream;dur=\d+/);
    expect(miss.timing).toMatch(/auth;dur=\d+/);
    expect(miss.timing).toMatch(/ratelimit;dur=\d+/);
    expect(await workerCalls()).toBe(before + 1);
    await storedInRedis(await irisKey(rows));

    const hit = await rest(edge.url, rows, {}, "second");
    expect(hit.xCache).toBe("HIT");
    expect(hit.headers.get("cache-status")).toBe("edge; hit; detail=l1");
    expect(hit.timing).toMatch(/cache;dur=\d+;desc="l1"/);
    expect(hit.timing).not.toMatch(/upstream;/);
    expect(hit.json.id).toBe("second");
    expect(hit.json.outputs).toEqual(miss.json.outputs);
    expect(hit.json.model_version).toBe("1");
    expect(await workerCalls()).toBe(before + 1);
  });

  it("a Connect hit returns exactly the tensors of the REST miss, and a REST hit those of a Connect miss", async () => {
    const rows = freshRows(3);
    const before = await workerCalls();
    const restMiss = await rest(edge.url, rows);
    expect(restMiss.xCache).toBe("MISS");
    // Typed contents over Connect: the same tensor, the same entry.
    const typedHit = await connect(edge.url, irisConnectRequest(rows, false, "c1"));
    expect(typedHit.xCache).toBe("HIT");
    expect(typedHit.response.id).toBe("c1");
    expect(plainOutputs(typedHit.response).map(({ name, shape, data }) => ({ name, shape, data }))).toEqual(
      restMiss.json.outputs.map(({ name, shape, data }: { name: string; shape: number[]; data: number[] }) => ({ name, shape, data })),
    );

    const rows2 = freshRows(3);
    const connectMiss = await connect(edge.url, irisConnectRequest(rows2, true));
    expect(connectMiss.xCache).toBe("MISS");
    const connectHit = await connect(edge.url, irisConnectRequest(rows2, true));
    expect(connectHit.xCache).toBe("HIT");
    // Byte for byte the same tensors.
    expect(connectHit.response.outputs).toEqual(connectMiss.response.outputs);
    expect(connectHit.response.rawOutputContents).toEqual(connectMiss.response.rawOutputContents);
    const restHit = await rest(edge.url, rows2);
    expect(restHit.xCache).toBe("HIT");
    expect(restHit.json.outputs.map((o: { data: number[] }) => o.data)).toEqual(plainOutputs(connectMiss.response).map((o) => o.data));
    expect(await workerCalls()).toBe(before + 2);
  });

  it("N concurrent identical misses make one upstream call", async () => {
    const rows = freshRows();
    const before = await workerCalls();
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => rest(edge.url, rows, {}, `c${i}`)));
    expect(await workerCalls()).toBe(before + 1);
    expect(results.map((r) => r.json.id)).toEqual(Array.from({ length: 8 }, (_, i) => `c${i}`));
    for (const r of results) expect(r.json.outputs).toEqual(results[0]!.json.outputs);
    const statuses = results.map((r) => r.headers.get("cache-status"));
    expect(statuses.filter((s) => s === "edge; fwd=miss; stored")).toHaveLength(1);
  });

  it("a second edge (cold L1) answers from Redis (L2), then from its own L1", async () => {
    const rows = freshRows();
    await rest(edge.url, rows);
    await storedInRedis(await irisKey(rows));
    const before = await workerCalls();
    const l2 = await rest(edge2.url, rows);
    expect(l2.xCache).toBe("HIT");
    expect(l2.timing).toMatch(/cache;dur=\d+;desc="l2"/);
    expect(l2.headers.get("cache-status")).toBe("edge; hit; detail=l2");
    // The backfill into L1 runs in waitUntil, after the response.
    await until("L1 backfill", async () => (await rest(edge2.url, rows)).timing.includes('desc="l1"'));
    expect(await workerCalls()).toBe(before);
  });

  it("no-store: BYPASS, the worker is called and nothing is stored", async () => {
    const rows = freshRows();
    const before = await workerCalls();
    const r = await rest(edge.url, rows, { "cache-control": "no-store" });
    expect(r.xCache).toBe("BYPASS");
    expect(await workerCalls()).toBe(before + 1);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await redis.client().get(await irisKey(rows))).toBeNull();
    expect((await rest(edge.url, rows)).xCache).toBe("MISS");
  });

  it("no-cache: MISS, the worker is called and the entry is refreshed", async () => {
    const rows = freshRows();
    const key = await irisKey(rows);
    await rest(edge.url, rows);
    const first = await storedInRedis(key);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const before = await workerCalls();
    const r = await rest(edge.url, rows, { "cache-control": "no-cache" });
    expect(r.xCache).toBe("MISS");
    expect(r.headers.get("cache-status")).toBe("edge; fwd=request; stored");
    expect(await workerCalls()).toBe(before + 1);
    const expiry = (v: string) => Number(v.split("|")[1]);
    await until("refreshed entry", async () => expiry((await redis.client().get<string>(key)) ?? "") > expiry(first));
    expect((await rest(edge.url, rows)).xCache).toBe("HIT");
  });

  it("tenant A never sees tenant B's private entry; public models are shared", async () => {
    const keyFor = async (tenant: string) => {
      const { id, key } = generateApiKey();
      const record = { id, tenant, plan: "development", name: `cache test ${tenant}`, created_at: new Date().toISOString() };
      await redis.client().set(recordKey(await hashApiKey(key)), JSON.stringify(record));
      return { authorization: `Bearer ${key}` };
    };
    const [alice, bob] = await Promise.all([keyFor("alice"), keyFor("bob")]);
    const rows = freshRows();
    const call = async (model: string, headers: Record<string, string>) => {
      const r = await restCall(`${edge.url}/v2/models/${model}/infer`, irisBody(rows), { headers });
      expect(r.status, r.text).toBe(200);
      return r.headers.get("x-cache");
    };
    const before = await workerCalls("irisp");
    expect(await call("irisp", alice)).toBe("MISS");
    expect(await call("irisp", alice)).toBe("HIT");
    expect(await call("irisp", bob)).toBe("MISS");
    expect(await call("irisp", bob)).toBe("HIT");
    expect(await call("irisp", {})).toBe("MISS");
    expect(await workerCalls("irisp")).toBe(before + 3);
    // Redis holds one entry per tenant, each under its tenant prefix.
    await until("private entries", async () => (await redis.client().keys("cache:v1:t:*")).length >= 3);
    const tenants = (await redis.client().keys("cache:v1:t:*")).map((k) => k.split(":")[3]).sort();
    expect(tenants).toEqual(expect.arrayContaining(["alice", "anonymous", "bob"]));
    // iris is public: one tenant's miss is another's hit.
    const shared = freshRows();
    const r1 = await restCall(`${edge.url}/v2/models/iris/infer`, irisBody(shared), { headers: alice });
    const r2 = await restCall(`${edge.url}/v2/models/iris/infer`, irisBody(shared), { headers: bob });
    expect([r1.headers.get("x-cache"), r2.headers.get("x-cache")]).toEqual(["MISS", "HIT"]);
  });

  it("a non-deterministic model is never cached (BYPASS)", async () => {
    const body = { inputs: [{ name: "x", datatype: "FP32", shape: [1, 8], data: [1, 2, 3, 4, 5, 6, 7, 8] }] };
    const before = await workerCalls("slow");
    for (let i = 0; i < 2; i++) {
      const r = await restCall(`${edge.url}/v2/models/slow/infer`, body);
      expect(r.status, r.text).toBe(200);
      expect(r.headers.get("x-cache")).toBe("BYPASS");
    }
    expect(await workerCalls("slow")).toBe(before + 2);
  });

  it("Redis stopped mid-run: no errors, the cache degrades to L1/miss; it recovers when Redis returns", async () => {
    const warm = freshRows();
    await rest(edge.url, warm);
    await storedInRedis(await irisKey(warm));
    await redis.stopRedis();
    try {
      // L1 still answers what it has; Redis-only entries and new rows are misses.
      expect((await rest(edge.url, warm)).xCache).toBe("HIT");
      for (let i = 0; i < 4; i++) {
        const rows = freshRows();
        const a = await rest(edge.url, rows);
        expect(a.xCache).toBe("MISS");
        // edge2's L1 is cold and Redis is down: a plain miss, not an error.
        expect((await rest(edge2.url, rows)).xCache).toBe("MISS");
      }
      const connectDown = await connect(edge2.url, irisConnectRequest(freshRows(), true));
      expect(connectDown.xCache).toBe("MISS");
    } finally {
      await redis.startRedis();
    }
    // Recovery: after the edge's short cool-down, entries reach Redis again
    // and a cold edge reads them from L2.
    const rows = freshRows();
    const key = await irisKey(rows);
    await until(
      "Redis writes to resume",
      async () => {
        await rest(edge.url, rows, { "cache-control": "no-cache" });
        return (await redis.client().get<string>(key).catch(() => null)) ?? null;
      },
      15_000,
    );
    // edge2 saw Redis fail too and rests its L2 for 1 s after that failure
    // (so an outage does not add REDIS_TIMEOUT_MS to every request); once
    // that has passed it reads L2 again.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const l2 = await rest(edge2.url, rows);
    expect(l2.xCache).toBe("HIT");
    expect(l2.timing).toContain('desc="l2"');
  });

  it("a new model version misses (worker restarted with iris/2, after the edge's catalogue TTL)", async () => {
    const rows = freshRows();
    await rest(edge.url, rows);
    expect((await rest(edge.url, rows)).xCache).toBe("HIT");

    const port = worker.port;
    await worker.stop();
    cpSync(join(repository, "iris/1"), join(repository, "iris/2"), { recursive: true });
    worker = await startWorker({ repository, port });
    // The edge reuses model facts (the resolved version) for 5 s.
    await new Promise((resolve) => setTimeout(resolve, 5_500));

    const fresh = await rest(edge.url, rows);
    expect(fresh.json.model_version).toBe("2");
    expect(fresh.xCache).toBe("MISS");
    expect(await workerCalls()).toBe(1);
    expect((await rest(edge.url, rows)).xCache).toBe("HIT");
    // v1 is no longer served (version policy latest: 1): naming it is not_found, never a stale hit.
    const old = await restCall(`${edge.url}/v2/models/iris/versions/1/infer`, irisBody(rows));
    expect(old.status, old.text).toBe(404);
  }, 60_000);
});

describe("single-flight: a failing leader never fails its followers", () => {
  let tenants: Record<"alice" | "bob", Record<string, string>>;
  beforeAll(async () => {
    const keyFor = async (tenant: string) =>
      ({ authorization: `Bearer ${(await createKey(redis.client(), { tenant, plan: "development", name: "single-flight" })).key}` });
    tenants = { alice: await keyFor("sf-alice"), bob: await keyFor("sf-bob") };
  });

  let value = 0;
  const gatedRequest = (v: number, id = "", raw = false) => {
    const values = Array(8).fill(v) as number[];
    return create(ModelInferRequestSchema, {
      modelName: "gated",
      id,
      inputs: [{ name: "x", datatype: "FP32", shape: [1n, 8n], ...(raw ? {} : { contents: { fp32Contents: values } }) }],
      rawInputContents: raw ? [new Uint8Array(new Float32Array(values).buffer)] : [],
    });
  };
  const inFlight = async () => metricValue(await worker.metrics(), "worker_inference_in_flight", 'model="gated"');
  const untilInFlight = (n: number) => until(`${n} gated call(s) at the worker`, async () => (await inFlight()) >= n, 20_000);

  /**
   * Holds the worker's one `gated` instance with `n` calls sent straight to it
   * (~300 ms each, one after another): an edge call sent next waits behind
   * them until release() aborts them. Resolves once all are at the worker.
   */
  async function holdWorker(n: number) {
    const base = await inFlight();
    const controller = new AbortController();
    const client = workerClient(worker.url, "connect-h2");
    const calls = Array.from({ length: n }, (_, i) =>
      client.modelInfer(gatedRequest(-1 - i), { signal: controller.signal }).catch(() => undefined),
    );
    await untilInFlight(base + n);
    return {
      base: base + n,
      async release() {
        controller.abort();
        await Promise.all(calls);
      },
    };
  }

  /** Three followers: anonymous over REST, bob over Connect, alice over gRPC-Web; each settles to its status, answer and Cache-Status. */
  function followers(v: number) {
    const rest = restCall(`${edge.url}/v2/models/gated/infer`, {
      inputs: [{ name: "x", datatype: "FP32", shape: [1, 8], data: Array(8).fill(v) }],
    }).then((r) => ({ code: r.status === 200 ? "ok" : `${r.status} ${r.text}`, y: r.json?.outputs?.[0]?.data as number[] | undefined, status: r.headers.get("cache-status") }));
    const rpc = (protocol: "connect-binary" | "grpc-web", headers: Record<string, string>) => {
      let status: string | null = null;
      return edgeClient(edge.url, protocol, headers)
        .modelInfer(gatedRequest(v), { onHeader: (h) => (status = h.get("cache-status")), onTrailer: (t) => (status ??= t.get("cache-status")) })
        .then(
          (response) => ({ code: "ok", y: plainOutputs(response)[0]!.data as number[] | undefined, status }),
          (error: unknown) => ({ code: `${Code[ConnectError.from(error).code]} ${ConnectError.from(error).rawMessage}`, y: undefined, status }),
        );
    };
    return Promise.all([rest, rpc("connect-binary", tenants.bob), rpc("grpc-web", tenants.alice)]);
  }

  /** What the worker itself answers for `v` (no edge, no cache). */
  async function reference(v: number): Promise<number[]> {
    const response = await workerClient(worker.url, "connect-h2").modelInfer(gatedRequest(v));
    return plainOutputs(response)[0]!.data as number[];
  }

  /** Every follower got the worker's own answer; at least one had joined the failed flight and took over. */
  async function expectFollowersServed(results: Awaited<ReturnType<typeof followers>>, v: number) {
    const want = await reference(v);
    expect(results.map((r) => r.code)).toEqual(["ok", "ok", "ok"]);
    for (const r of results) expect(r.y).toEqual(want);
    expect(results.some((r) => r.status?.includes("detail=leader-failed"))).toBe(true);
  }

  // Each scenario: the worker is held, the leader's call waits at the worker,
  // followers join its flight at the edge, the leader fails for a reason of
  // its own, the worker is released.
  it("the leader's own short deadline (connect-timeout-ms)", async () => {
    const v = ++value;
    // ~12 runs of work ahead: far longer than the leader's 1.5 s deadline.
    const gate = await holdWorker(12);
    try {
      const leader = edgeClient(edge.url, "connect-binary", tenants.alice).modelInfer(gatedRequest(v), { timeoutMs: 1_500 }).then(() => "ok", (e: unknown) => ConnectError.from(e).code);
      await untilInFlight(gate.base + 1);
      const served = followers(v);
      expect(await leader).toBe(Code.DeadlineExceeded);
      await gate.release();
      await expectFollowersServed(await served, v);
    } finally {
      await gate.release();
    }
  });

  it("the leader cancelled by its id (ModelInferCancel)", async () => {
    const v = ++value;
    const gate = await holdWorker(12);
    try {
      const client = edgeClient(edge.url, "connect-binary", tenants.alice);
      const leader = client.modelInfer(gatedRequest(v, "lead-1")).then(() => "ok", (e: unknown) => ConnectError.from(e).code);
      await untilInFlight(gate.base + 1);
      const served = followers(v);
      // Followers reach the edge within milliseconds; a second is a wide margin (the held worker gives ~3 s).
      await new Promise((r) => setTimeout(r, 1_000));
      expect((await client.modelInferCancel({ modelName: "gated", id: "lead-1" })).cancelled).toBe(1);
      expect(await leader).toBe(Code.Canceled);
      await gate.release();
      await expectFollowersServed(await served, v);
    } finally {
      await gate.release();
    }
  });
  // The malformed twin (raw contents beside an empty `contents {}`) is refused by the worker
  // before it queues, so it cannot be held as a leader here: test/edge/cache/key.test.ts pins
  // that it is never keyed like its valid twin, and tiered.test.ts that an input error never
  // reaches a follower.

});

// Rate limits end to end: the edge bundle in workerd (one or two instances),
// a real worker, a real Redis behind the Upstash REST bridge. Every loop is
// bounded by a count or a deadline.
import { createServer, request as httpRequest, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKey } from "../../scripts/keys/commands.js";
import { edgeClient } from "../support/clients.js";
import { startEdge, type EdgeHandle } from "../support/edge-runtime.js";
import { irisRequest } from "../support/iris.js";
import { startRedisStack, type RedisStack } from "../support/redis-stack.js";
import { startWorker, type WorkerHandle } from "../support/worker-process.js";

const PLANS = JSON.stringify({
  acc: { requests: 100000, cost: 50, window_s: 2, models: "*" },
  weights: { requests: 100000, cost: 1000, window_s: 60, models: "*" },
  tiny: { requests: 3, cost: 1000, window_s: 3, models: "*" },
  strict: { requests: 1, cost: 1000, window_s: 1, models: "*" },
  roomy: { requests: 100000, cost: 100000, window_s: 60, models: "*" },
  capped: { requests: 2, cost: 100000, window_s: 60, models: "*" },
});

let stack: RedisStack;
let worker: WorkerHandle;
const edges: EdgeHandle[] = [];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  [stack, worker] = await Promise.all([startRedisStack(), startWorker()]);
});

const proxies: Server[] = [];

afterAll(async () => {
  await Promise.all(edges.map((e) => e.dispose()));
  await Promise.all(proxies.map((p) => new Promise((r) => p.close(r))));
  await worker?.stop();
  await stack?.close();
});

async function edgeWith(vars: Record<string, string> = {}): Promise<EdgeHandle> {
  const edge = await startEdge({
    WORKER_URLS: worker.url,
    ...stack.edgeVars(),
    PLANS,
    AUTH_ANONYMOUS_PLAN: "",
    RATE_LIMIT_PENALTY_BASE_S: "0",
    ...vars,
  });
  edges.push(edge);
  return edge;
}

/**
 * A plain HTTP/1.1 relay in front of the worker that counts the calls
 * reaching it per path ("ModelMetadata", "ServerReady", ...): what the edge
 * costs the workers, seen from outside the edge.
 */
async function countingProxy(): Promise<{ url: string; calls: Map<string, number>; total: () => number }> {
  const target = new URL(worker.url);
  const calls = new Map<string, number>();
  const server = createServer((req, res) => {
    const method = (req.url ?? "").split("/").pop()!;
    calls.set(method, (calls.get(method) ?? 0) + 1);
    const upstream = httpRequest(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on("error", () => res.destroy());
    req.pipe(upstream);
  });
  proxies.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, calls, total: () => [...calls.values()].reduce((a, b) => a + b, 0) };
}

const key = async (plan: string) => (await createKey(stack.client(), { tenant: "t", plan, plansJson: PLANS })).key;

function rows(n: number, width: number): number[][] {
  return Array.from({ length: n }, (_, i) => Array.from({ length: width }, (_, j) => ((i + j) % 7) / 7));
}

async function infer(base: string, headers: Record<string, string>, model = "iris", batch = 1) {
  const width = model === "iris" ? 4 : 1024;
  const response = await fetch(`${base}/v2/models/${model}/infer`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ inputs: [{ name: "input", datatype: "FP32", shape: [batch, width], data: rows(batch, width) }] }),
  });
  const body = (await response.json()) as { error?: string };
  return { status: response.status, headers: response.headers, body };
}

/**
 * Sends `rate` requests/s (open loop, at most 24 in flight) for `seconds`,
 * round-robin over `bases`; returns admitted count and the span from the
 * first send to the last send.
 */
async function sustained(bases: string[], headers: Record<string, string>, rate: number, seconds: number) {
  const total = Math.round(rate * seconds);
  const started = Date.now();
  let admitted = 0;
  let uncounted = 0;
  let lastSend = started;
  const statuses = new Map<number, number>();
  const inflight = new Set<Promise<void>>();
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / rate;
    if (due > Date.now()) await sleep(due - Date.now());
    while (inflight.size >= 24) await Promise.race(inflight);
    lastSend = Date.now();
    const p = infer(bases[i % bases.length]!, headers).then((r) => {
      statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
      if (r.status === 200) admitted++;
      // An admission the limiter counted says what is left of the cost bucket;
      // one admitted without Redis's answer (fail-open) carries no such item.
      if (r.status === 200 && !/"cost";r=\d+/.test(r.headers.get("ratelimit") ?? "")) uncounted++;
    });
    const tracked = p.finally(() => inflight.delete(tracked));
    inflight.add(tracked);
  }
  await Promise.all(inflight);
  return { admitted, uncounted, spanS: (lastSend - started) / 1000, statuses };
}

describe("token bucket accuracy", () => {
  // Plan "acc": 50 cost units per 2 s = burst 50, then 25/s. At 3x (75/s) for
  // ~6 s the edge must admit 50 + 25 × span within ±5%.
  for (const instances of [1, 2]) {
    it(`admits the configured cost within ±5% at 3x the limit (${instances} edge instance${instances > 1 ? "s" : ""}, one Redis)`, async () => {
      // A generous Redis timeout: this test measures counting, so a slow
      // machine must not turn into fail-open admissions (which it would
      // report below rather than pass with).
      const bases = await Promise.all(Array.from({ length: instances }, () => edgeWith({ REDIS_TIMEOUT_MS: "5000" })));
      const apiKey = await key("acc");
      // Warm the key cache and scripts outside the measurement with a metadata call (cost 0).
      for (const b of bases) expect((await fetch(`${b.url}/v2/models/iris`, { headers: { "x-api-key": apiKey } })).status).toBe(200);
      const { admitted, uncounted, spanS, statuses } = await sustained(bases.map((b) => b.url), { "x-api-key": apiKey }, 75, 6);
      const expected = 50 + 25 * spanS;
      expect([...statuses.keys()].sort()).toEqual([200, 429]);
      expect(uncounted, "admissions the limiter did not count (it failed open)").toBe(0);
      expect(Math.abs(admitted - expected) / expected, `admitted ${admitted}, expected ${expected.toFixed(1)}`).toBeLessThanOrEqual(0.05);
    }, 40_000);
  }
});

describe("429 and resource_exhausted", () => {
  it("carry Retry-After and RateLimit headers, and retrying after the hint is admitted", async () => {
    const edge = await edgeWith();
    const apiKey = await key("tiny");
    for (let i = 0; i < 3; i++) expect((await infer(edge.url, { "x-api-key": apiKey })).status).toBe(200);
    const denied = await infer(edge.url, { "x-api-key": apiKey });
    expect(denied.status).toBe(429);
    const retry = Number(denied.headers.get("retry-after"));
    expect(retry).toBeGreaterThanOrEqual(1);
    expect(retry).toBeLessThanOrEqual(2);
    expect(denied.body.error).toBe(`rate limit exceeded for plan 'tiny' (requests): retry after ${retry} s`);
    expect(denied.headers.get("ratelimit-policy")).toBe('"requests";q=3;w=3, "cost";q=1000;w=3');
    // The cost units the refused request took are refunded, and the header says so.
    expect(denied.headers.get("ratelimit")).toMatch(/^"requests";r=0;t=[12], "cost";r=1000;t=0$/);

    try {
      await edgeClient(edge.url, "connect-json", { "x-api-key": apiKey }).modelInfer(irisRequest());
      expect.unreachable();
    } catch (error) {
      const e = ConnectError.from(error);
      expect(e.code).toBe(Code.ResourceExhausted);
      expect(e.rawMessage).toMatch(/^rate limit exceeded for plan 'tiny' \(requests\): retry after [12] s$/);
      expect(e.metadata.get("retry-after")).toMatch(/^[12]$/);
      expect(e.metadata.get("ratelimit-policy")).toContain('"requests";q=3;w=3');
    }
    await sleep(retry * 1000);
    expect((await infer(edge.url, { "x-api-key": apiKey })).status).toBe(200);
  });
});

describe("cost weighting", () => {
  it("charges batch rows × the model's cost weight to that model's bucket", async () => {
    const edge = await edgeWith();
    const apiKey = await key("weights");
    const iris = await infer(edge.url, { "x-api-key": apiKey }, "iris", 8);
    expect(iris.status, JSON.stringify(iris.body)).toBe(200);
    expect(iris.headers.get("ratelimit")).toMatch(/"cost";r=992;/);
    const wide = await infer(edge.url, { "x-api-key": apiKey }, "mlp-wide", 3);
    expect(wide.status, JSON.stringify(wide.body)).toBe(200);
    expect(wide.headers.get("ratelimit")).toMatch(/"cost";r=988;/); // 3 rows × weight 4, its own bucket
  });
});

describe("progressive penalty", () => {
  it("blocks longer on each repeated overrun, then forgets after a quiet period", async () => {
    const edge = await edgeWith({ RATE_LIMIT_PENALTY_BASE_S: "1", RATE_LIMIT_PENALTY_MAX_S: "2", RATE_LIMIT_PENALTY_DECAY_S: "1" });
    const apiKey = await key("strict"); // 1 request per second
    /** Sends until refused (bounded) and returns the Retry-After. */
    const overrun = async () => {
      for (let i = 0; i < 5; i++) {
        const r = await infer(edge.url, { "x-api-key": apiKey });
        if (r.status === 429) return { retry: Number(r.headers.get("retry-after")), message: r.body.error };
        expect(r.status).toBe(200);
      }
      throw new Error("never refused");
    };
    const first = await overrun();
    expect(first.retry).toBe(1);
    await sleep(first.retry * 1000);
    const second = await overrun();
    expect(second.retry).toBe(2);
    expect(second.message).toMatch(/repeated overuse/);
    // Still blocked half-way through, although the bucket has refilled.
    await sleep(1100);
    expect((await infer(edge.url, { "x-api-key": apiKey })).status).toBe(429);
    // Block (2 s) over + decay (1 s) quiet: strikes are forgotten. Wait for
    // that to happen in Redis itself (the strike counter expires), not for a
    // guessed time.
    const strikes = `rl:strikes:key:${apiKey.split("_")[1]}`;
    expect(await stack.client().exists(strikes)).toBe(1);
    const deadline = Date.now() + 15_000;
    while ((await stack.client().exists(strikes)) === 1 && Date.now() < deadline) await sleep(100);
    expect(await stack.client().exists(strikes)).toBe(0);
    const third = await overrun();
    expect(third.retry).toBe(1);
  }, 30_000);
});

describe("Redis outage", () => {
  it("never answers 500: fail-open admits, fail-closed answers 503, both recover when Redis returns", async () => {
    const vars = { AUTH_ANONYMOUS_PLAN: "roomy" };
    const [open, closed] = await Promise.all([
      edgeWith({ ...vars, RATE_LIMIT_FAILURE_MODE: "open" }),
      edgeWith({ ...vars, RATE_LIMIT_FAILURE_MODE: "closed" }),
    ]);
    expect((await infer(open.url, {})).status).toBe(200);
    expect((await infer(closed.url, {})).status).toBe(200);

    await stack.stopRedis();
    try {
      for (let i = 0; i < 5; i++) {
        const started = Date.now();
        const [o, c] = await Promise.all([infer(open.url, {}), infer(closed.url, {})]);
        expect(o.status, JSON.stringify(o.body)).toBe(200);
        expect(c.status, JSON.stringify(c.body)).toBe(503);
        expect(c.body.error).toBe("rate limiting is unavailable right now; retry shortly");
        expect(c.headers.get("retry-after")).toBe("1");
        expect(Date.now() - started).toBeLessThan(2000);
      }
    } finally {
      await stack.startRedis();
    }
    const deadline = Date.now() + 10_000;
    let status = 0;
    while (status !== 200 && Date.now() < deadline) {
      status = (await infer(closed.url, {})).status;
      if (status !== 200) await sleep(200);
    }
    expect(status).toBe(200);
    const after = await infer(open.url, {});
    expect(after.status).toBe(200);
    expect(after.headers.get("ratelimit")).toMatch(/^"requests";r=\d+/);
  }, 30_000);
});

describe("nothing costs a worker call before the request is charged", () => {
  const ghost = (i: number) => `ghost-${i}-${Math.random().toString(36).slice(2, 8)}`;

  it("a caller over its limit reaches no worker with unknown model names (REST, GraphQL batched with aliases)", async () => {
    const proxy = await countingProxy();
    const edge = await edgeWith({ WORKER_URLS: proxy.url });
    const apiKey = await key("capped"); // 2 requests per minute
    for (let i = 0; i < 2; i++) expect((await infer(edge.url, { "x-api-key": apiKey })).status).toBe(200);
    const before = proxy.total();

    for (let i = 0; i < 10; i++) {
      const r = await infer(edge.url, { "x-api-key": apiKey }, ghost(i));
      expect(r.status, JSON.stringify(r.body)).toBe(429);
    }
    const fields = Array.from(
      { length: 10 },
      (_, i) => `m${i}: infer(model: "${ghost(i)}", inputs: [{name: "input", datatype: FP32, shape: [1, 4], data: [[1, 2, 3, 4]]}]) { modelName }`,
    ).join("\n");
    const response = await fetch(`${edge.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/graphql-response+json", "x-api-key": apiKey },
      body: JSON.stringify([{ query: `{ ${fields} }` }, { query: `{ ${fields} }` }]),
    });
    const results = (await response.json()) as { errors?: { extensions?: { code?: string } }[] }[];
    expect(results).toHaveLength(2);
    for (const result of results) {
      expect(result.errors?.length).toBe(10);
      expect(new Set(result.errors!.map((e) => e.extensions?.code))).toEqual(new Set(["RATE_LIMITED"]));
    }
    expect(proxy.total() - before, `worker calls after the caller ran out: ${JSON.stringify(Object.fromEntries(proxy.calls))}`).toBe(0);
  }, 30_000);

  it("an unknown model name asked again is answered from memory (CATALOGUE_NEGATIVE_TTL_MS)", async () => {
    const proxy = await countingProxy();
    const edge = await edgeWith({ WORKER_URLS: proxy.url, CATALOGUE_NEGATIVE_TTL_MS: "60000" });
    const apiKey = await key("roomy");
    const name = ghost(0);
    for (let i = 0; i < 5; i++) expect((await infer(edge.url, { "x-api-key": apiKey }, name)).status).toBe(404);
    expect(proxy.calls.get("ModelMetadata")).toBe(1);
  });

  it("readiness probes reuse one worker answer for READY_CACHE_TTL_MS", async () => {
    const proxy = await countingProxy();
    const edge = await edgeWith({ WORKER_URLS: proxy.url, READY_CACHE_TTL_MS: "60000" });
    for (let i = 0; i < 10; i++) expect((await fetch(`${edge.url}/v2/health/ready`)).status).toBe(200);
    const burst = await Promise.all(Array.from({ length: 10 }, () => fetch(`${edge.url}/v2/health/ready`)));
    expect(burst.map((r) => r.status)).toEqual(Array(10).fill(200));
    expect(proxy.calls.get("ServerReady")).toBe(1);
  });
});

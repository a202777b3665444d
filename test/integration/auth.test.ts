// Authentication end to end: the edge bundle in workerd, a real worker, a
// real Redis behind the Upstash REST bridge, keys made by the CLI's own
// functions, JWTs signed here.
import { Code, ConnectError } from "@connectrpc/connect";
import { SignJWT, type JWTPayload } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKey, listKeys, revokeKey } from "../../scripts/keys/commands.js";
import { edgeClient, workerClient } from "../support/clients.js";
import { startEdge, type EdgeHandle } from "../support/edge-runtime.js";
import { irisRequest, irisRestBody } from "../support/iris.js";
import { startRedisStack, type RedisStack } from "../support/redis-stack.js";
import { startWorker, type WorkerHandle } from "../support/worker-process.js";

const SECRET = "integration-secret-that-is-long-enough-0123";
const ISS = "https://issuer.example";
const AUD = "inference";
const KEY_TTL_MS = 1000;

let stack: RedisStack;
let worker: WorkerHandle;
let edge: EdgeHandle;
const edges: EdgeHandle[] = [];

beforeAll(async () => {
  [stack, worker] = await Promise.all([startRedisStack(), startWorker()]);
  edge = await startEdge({
    WORKER_URLS: worker.url,
    ...stack.edgeVars(),
    AUTH_ANONYMOUS_PLAN: "",
    API_KEY_CACHE_TTL_MS: String(KEY_TTL_MS),
    JWT_ISSUER: ISS,
    JWT_AUDIENCE: AUD,
    JWT_HS256_SECRET: SECRET,
  });
  edges.push(edge);
});

afterAll(async () => {
  await Promise.all(edges.map((e) => e.dispose()));
  await worker?.stop();
  await stack?.close();
});

async function infer(model: string, headers: Record<string, string>, base = edge.url) {
  const response = await fetch(`${base}/v2/models/${model}/infer`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(irisRestBody()),
  });
  return { status: response.status, headers: response.headers, body: (await response.json()) as { error?: string } };
}

async function connectCode(headers: Record<string, string>, model = "iris"): Promise<{ code: Code | "ok"; error?: ConnectError }> {
  try {
    await edgeClient(edge.url, "connect-binary", headers).modelInfer({ ...irisRequest(), modelName: model });
    return { code: "ok" };
  } catch (error) {
    const e = ConnectError.from(error);
    return { code: e.code, error: e };
  }
}

const now = () => Math.floor(Date.now() / 1000);
const claims = (over: JWTPayload = {}): JWTPayload => ({ iss: ISS, aud: AUD, sub: "alice", tenant: "acme", plan: "free", exp: now() + 300, ...over });
const sign = (payload: JWTPayload) => new SignJWT(payload).setProtectedHeader({ alg: "HS256" }).sign(new TextEncoder().encode(SECRET));
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

describe("API keys", () => {
  it("create -> works over REST and Connect -> listed -> revoke -> 401 within the cache TTL", async () => {
    const { key, record } = await createKey(stack.client(), { tenant: "acme", plan: "free", name: "ci" });
    expect(key).toMatch(/^gw_[0-9a-f]{16}_/);
    // Only the hash is stored.
    const stored = JSON.stringify(await stack.client().keys("*"));
    expect(stored).not.toContain(key.slice(20));

    const ok = await infer("iris", { authorization: `Bearer ${key}` });
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    expect((await connectCode({ "x-api-key": key })).code).toBe("ok");
    expect((await listKeys(stack.client(), { tenant: "acme" })).map((k) => k.id)).toContain(record.id);

    expect(await revokeKey(stack.client(), record.id)).toBe(true);
    expect(await revokeKey(stack.client(), record.id)).toBe(false);
    const revokedAt = Date.now();
    let status = 200;
    while (status === 200 && Date.now() - revokedAt < KEY_TTL_MS + 2000) {
      status = (await infer("iris", { "x-api-key": key })).status;
      if (status === 200) await new Promise((r) => setTimeout(r, 100));
    }
    expect(status).toBe(401);
    expect(Date.now() - revokedAt).toBeLessThan(KEY_TTL_MS + 1000);
    const refused = await infer("iris", { "x-api-key": key });
    expect(refused.body.error).toMatch(/unknown or revoked/);
    expect(refused.headers.get("www-authenticate")).toMatch(/^Bearer realm="inference", error="invalid_token"/);
    expect((await connectCode({ authorization: `Bearer ${key}` })).code).toBe(Code.Unauthenticated);
  });

  it("403 / permission_denied for a model outside the key's plan", async () => {
    const { key } = await createKey(stack.client(), { tenant: "acme", plan: "free" });
    const res = await infer("mlp-wide", { "x-api-key": key });
    expect(res.status).toBe(403);
    expect(res.body.error).toBe('plan "free" does not include model "mlp-wide"');
    expect((await connectCode({ "x-api-key": key }, "mlp-wide")).code).toBe(Code.PermissionDenied);
  });
});

describe("a plan's model list scopes what a caller sees", () => {
  it("statistics for every model (REST, Connect, GraphQL models, the statistics subscription) list only the plan's models", async () => {
    const { key } = await createKey(stack.client(), { tenant: "acme", plan: "free" }); // free: iris only
    const headers = { "x-api-key": key };
    // The worker serves more than iris.
    const all = await workerClient(worker.url, "connect-h2").modelStatistics({});
    expect(all.modelStats.map((m) => m.name)).toContain("mlp-wide");

    const rest = await fetch(`${edge.url}/v2/models/stats`, { headers });
    expect(rest.status).toBe(200);
    expect(new Set(((await rest.json()) as { model_stats: { name: string }[] }).model_stats.map((m) => m.name))).toEqual(new Set(["iris"]));
    expect((await fetch(`${edge.url}/v2/models/mlp-wide/stats`, { headers })).status).toBe(403);

    const connect = await edgeClient(edge.url, "connect-binary", headers).modelStatistics({});
    expect(new Set(connect.modelStats.map((m) => m.name))).toEqual(new Set(["iris"]));

    const gqlPost = (body: unknown, accept = "application/graphql-response+json") =>
      fetch(`${edge.url}/graphql`, { method: "POST", headers: { "content-type": "application/json", accept, ...headers }, body: JSON.stringify(body) });
    const models = (await (await gqlPost({ query: "{ models { name } }" })).json()) as { data: { models: { name: string }[] } };
    expect(models.data.models).toEqual([{ name: "iris" }]);
    const denied = (await (await gqlPost({ query: '{ model(name: "mlp-wide") { name } }' })).json()) as { errors: { extensions: { code: string } }[] };
    expect(denied.errors[0]!.extensions.code).toBe("PERMISSION_DENIED");

    const stream = await gqlPost({ query: "subscription { modelStatistics(intervalMs: 100, limit: 1) { models { name } } }" }, "text/event-stream");
    const text = await stream.text();
    const next = text.split("\n\n").find((block) => block.startsWith("event: next"))!;
    const update = JSON.parse(next.split("\n").find((line) => line.startsWith("data: "))!.slice(6)) as {
      data: { modelStatistics: { models: { name: string }[] } };
    };
    expect(new Set(update.data.modelStatistics.models.map((m) => m.name))).toEqual(new Set(["iris"]));
  });
});

describe("unknown API keys", () => {
  it("cost a Redis read each only up to API_KEY_MISSES_PER_MIN per client address; past it, 429 with Retry-After", async () => {
    const limited = await startEdge({
      WORKER_URLS: worker.url,
      ...stack.edgeVars(),
      AUTH_ANONYMOUS_PLAN: "",
      API_KEY_MISSES_PER_MIN: "5",
    });
    edges.push(limited);
    const { key } = await createKey(stack.client(), { tenant: "acme", plan: "free" });
    expect((await infer("iris", { "x-api-key": key }, limited.url)).status).toBe(200); // held by the isolate from now on
    const statuses: number[] = [];
    let last: Awaited<ReturnType<typeof infer>> | undefined;
    for (let i = 0; i < 8; i++) {
      const invented = `gw_${"0123456789abcdef"}_${"A".repeat(42)}${i}`;
      last = await infer("iris", { "x-api-key": invented }, limited.url);
      statuses.push(last.status);
    }
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429, 429]);
    expect(last!.body.error).toMatch(/^too many unknown API keys from this address \(5 per minute, API_KEY_MISSES_PER_MIN\): retry after \d+ s with a valid key$/);
    expect(Number(last!.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    // The caller's real key still works.
    expect((await infer("iris", { "x-api-key": key }, limited.url)).status).toBe(200);
  });
});

describe("credentials refused", () => {
  it("no credentials: 401 with a bare Bearer challenge; Connect unauthenticated", async () => {
    const res = await infer("iris", {});
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toBe('Bearer realm="inference"');
    expect(res.body.error).toMatch(/credentials required/);
    expect((await connectCode({})).code).toBe(Code.Unauthenticated);
  });

  it("a valid JWT is served; alg none, a tampered token and the wrong audience are 401 on REST and Connect", async () => {
    const good = await sign(claims());
    expect((await infer("iris", { authorization: `Bearer ${good}` })).status).toBe(200);
    const [h, , s] = good.split(".");
    const bad: [string, string, RegExp][] = [
      ["alg none", `${b64({ alg: "none" })}.${b64(claims())}.`, /algorithm "none" is not accepted/],
      ["tampered", `${h}.${b64(claims({ plan: "development" }))}.${s}`, /signature is invalid/],
      ["wrong aud", await sign(claims({ aud: "other" })), /audience is not accepted/],
      ["non-numeric exp", await signRaw({ ...claims(), exp: "soon" }), /"exp" claim has the wrong type/],
      ["expired", await sign(claims({ exp: now() - 3600 })), /token expired/],
    ];
    for (const [label, token, message] of bad) {
      const res = await infer("iris", { authorization: `Bearer ${token}` });
      expect(res.status, label).toBe(401);
      expect(res.body.error, label).toMatch(message);
      expect(res.headers.get("www-authenticate"), label).toMatch(/error="invalid_token", error_description="/);
      const connect = await connectCode({ authorization: `Bearer ${token}` });
      expect(connect.code, label).toBe(Code.Unauthenticated);
      expect(connect.error?.metadata.get("www-authenticate"), label).toMatch(/^Bearer realm="inference"/);
    }
  });
});

describe("anonymous access", () => {
  it("when configured: admitted per IP under its plan, and limited to the plan's models", async () => {
    const open = await startEdge({ WORKER_URLS: worker.url, ...stack.edgeVars(), AUTH_ANONYMOUS_PLAN: "free" });
    edges.push(open);
    const res = await infer("iris", {}, open.url);
    expect(res.status).toBe(200);
    expect(res.headers.get("ratelimit-policy")).toBe('"requests";q=60;w=60, "cost";q=600;w=60');
    expect((await infer("mlp-wide", {}, open.url)).status).toBe(403);
  });
});

async function signRaw(payload: Record<string, unknown>): Promise<string> {
  const { CompactSign } = await import("jose");
  return new CompactSign(new TextEncoder().encode(JSON.stringify(payload))).setProtectedHeader({ alg: "HS256" }).sign(new TextEncoder().encode(SECRET));
}

import { Code } from "@connectrpc/connect";
import { SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { generateApiKey, hashApiKey, recordKey, type ApiKeyRecord } from "../../../edge/auth/api-keys.js";
import { createAuthenticator } from "../../../edge/auth/authenticator.js";
import { parseAuthConfig } from "../../../edge/auth/config.js";
import { createJwtVerifier } from "../../../edge/auth/jwt.js";
import { createKeyStore, type KeyReader } from "../../../edge/auth/key-store.js";
import { addressGroup, createMissLimiter } from "../../../edge/auth/miss-limit.js";
import { GatewayError } from "../../../edge/errors.js";
import { createRequestContext, detachedScope, type RequestContext } from "../../../edge/pipeline/context.js";
import { parsePlans } from "../../../edge/plans/plans.js";

const SECRET = "another-test-secret-at-least-32-bytes!!";
const plans = parsePlans(undefined);

function ctxWith(headers: Record<string, string>, ip = "203.0.113.7"): RequestContext {
  const scope = { ...detachedScope("t"), client: { headers: new Headers(headers), ip } };
  const ctx = createRequestContext({ scope, maxTimeoutMs: 1000 });
  ctx.dispose();
  return ctx;
}

/** An in-memory Redis GET with a call counter and a switch to make it fail. */
function fakeRedis() {
  const data = new Map<string, unknown>();
  const state = { gets: 0, fail: false, delayMs: 0 };
  const reader: KeyReader = {
    async get<T>(key: string) {
      state.gets++;
      if (state.delayMs) await new Promise((r) => setTimeout(r, state.delayMs));
      if (state.fail) throw new Error("connection refused");
      return (data.get(key) ?? null) as T | null;
    },
  };
  return { data, state, reader };
}

async function storeKey(data: Map<string, unknown>, plan = "free") {
  const { id, key } = generateApiKey();
  const record: ApiKeyRecord = { id, tenant: "acme", plan, name: "", created_at: new Date().toISOString() };
  data.set(recordKey(await hashApiKey(key)), record);
  return { id, key, record };
}

function setup(vars: Record<string, string> = {}, clock = { t: 1_000_000 }) {
  const redis = fakeRedis();
  const config = parseAuthConfig({ JWT_ISSUER: "iss", JWT_AUDIENCE: "aud", JWT_HS256_SECRET: SECRET, ...vars });
  const auth = createAuthenticator({
    config,
    plans,
    keyStore: createKeyStore({
      redis: redis.reader,
      ttlMs: config.apiKeyCacheTtlMs,
      timeoutMs: 50,
      now: () => clock.t,
      misses: createMissLimiter(config.apiKeyMissesPerMin, () => clock.t),
    }),
    jwt: createJwtVerifier(config.jwt!),
  });
  return { auth, redis, clock };
}

async function failure(promise: Promise<unknown>): Promise<GatewayError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(GatewayError);
    return error as GatewayError;
  }
  throw new Error("expected a failure");
}

describe("authenticator", () => {
  it("401s without credentials when anonymous access is off, with a bare challenge", async () => {
    const { auth } = setup();
    const ctx = ctxWith({});
    const error = await failure(auth.authenticate(ctx));
    expect(error.code).toBe(Code.Unauthenticated);
    expect(error.httpStatus).toBe(401);
    expect(error.headers["www-authenticate"]).toBe('Bearer realm="inference"');
    expect(ctx.scope.responseHeaders.get("www-authenticate")).toBe('Bearer realm="inference"');
  });

  it("lets anonymous callers in per IP under the configured plan", async () => {
    const { auth } = setup({ AUTH_ANONYMOUS_PLAN: "free" });
    expect(await auth.authenticate(ctxWith({}))).toEqual({ id: "ip:203.0.113.7", kind: "anonymous", tenant: "anonymous", plan: "free" });
  });

  it("accepts a stored API key, caches the lookup, and forgets a revoked key only after the TTL", async () => {
    const { auth, redis, clock } = setup({ API_KEY_CACHE_TTL_MS: "1000" });
    const { id, key } = await storeKey(redis.data);
    const principal = await auth.authenticate(ctxWith({ authorization: `Bearer ${key}` }));
    expect(principal).toEqual({ id: `key:${id}`, kind: "api-key", tenant: "acme", plan: "free" });
    await auth.authenticate(ctxWith({ "x-api-key": key }));
    expect(redis.state.gets).toBe(1);
    redis.data.clear(); // revoked
    clock.t += 999;
    await expect(auth.authenticate(ctxWith({ "x-api-key": key }))).resolves.toBeTruthy();
    clock.t += 2;
    const error = await failure(auth.authenticate(ctxWith({ "x-api-key": key })));
    expect(error.code).toBe(Code.Unauthenticated);
    expect(error.message).toMatch(/unknown or revoked/);
    expect(redis.state.gets).toBe(2);
  });

  it("caches unknown keys too (a flood of bad keys is not a flood of Redis reads)", async () => {
    const { auth, redis } = setup();
    const { key } = generateApiKey();
    for (let i = 0; i < 5; i++) await failure(auth.authenticate(ctxWith({ "x-api-key": key })));
    expect(redis.state.gets).toBe(1);
  });

  it("bounds the Redis reads invented keys cost: API_KEY_MISSES_PER_MIN unknown keys per address per minute, then 429", async () => {
    const { auth, redis, clock } = setup({ API_KEY_MISSES_PER_MIN: "30" });
    const known = await storeKey(redis.data);
    await auth.authenticate(ctxWith({ "x-api-key": known.key })); // cached before the flood
    const reads = redis.state.gets;
    const codes = new Map<Code, number>();
    for (let i = 0; i < 100; i++) {
      const error = await failure(auth.authenticate(ctxWith({ "x-api-key": generateApiKey().key })));
      codes.set(error.code, (codes.get(error.code) ?? 0) + 1);
    }
    expect(redis.state.gets - reads).toBe(30);
    expect(Object.fromEntries(codes)).toEqual({ [Code.Unauthenticated]: 30, [Code.ResourceExhausted]: 70 });
    const refused = await failure(auth.authenticate(ctxWith({ "x-api-key": generateApiKey().key })));
    expect(refused.message).toMatch(/too many unknown API keys from this address \(30 per minute, API_KEY_MISSES_PER_MIN\): retry after 60 s/);
    expect(refused.headers["retry-after"]).toBe("60");
    // A key this isolate already holds keeps working; another address has its own budget.
    expect((await auth.authenticate(ctxWith({ "x-api-key": known.key }))).id).toBe(`key:${known.id}`);
    await failure(auth.authenticate(ctxWith({ "x-api-key": generateApiKey().key }, "198.51.100.1")));
    expect(redis.state.gets - reads).toBe(31);
    // After the minute the address may try again.
    clock.t += 60_000;
    expect((await failure(auth.authenticate(ctxWith({ "x-api-key": generateApiKey().key })))).code).toBe(Code.Unauthenticated);
  });

  it("counts IPv6 callers per /64", () => {
    expect(addressGroup("2001:db8:1:2:aaaa::1")).toBe("2001:db8:1:2::/64");
    expect(addressGroup("2001:0db8:0001:0002:ffff:1:2:3")).toBe("2001:db8:1:2::/64");
    expect(addressGroup("2001:db8::1")).toBe("2001:db8:0:0::/64");
    expect(addressGroup("::1")).toBe("0:0:0:0::/64");
    expect(addressGroup("203.0.113.7")).toBe("203.0.113.7");
  });

  it("answers 503 unavailable when Redis fails or is too slow, never 500", async () => {
    const { auth, redis } = setup();
    const { key } = await storeKey(redis.data);
    redis.state.fail = true;
    const error = await failure(auth.authenticate(ctxWith({ "x-api-key": key })));
    expect(error.code).toBe(Code.Unavailable);
    expect(error.message).toMatch(/cannot verify API key/);
    redis.state.fail = false;
    redis.state.delayMs = 200;
    expect((await failure(auth.authenticate(ctxWith({ "x-api-key": key })))).code).toBe(Code.Unavailable);
  });

  it("401s API keys when no key store is configured", async () => {
    const config = parseAuthConfig({});
    const auth = createAuthenticator({ config, plans, keyStore: null, jwt: null });
    const error = await failure(auth.authenticate(ctxWith({ "x-api-key": generateApiKey().key })));
    expect(error.message).toMatch(/no key store/);
    expect((await failure(auth.authenticate(ctxWith({ authorization: "Bearer a.b.c" })))).message).toMatch(/JWT\) are not accepted/);
  });

  it("maps JWT claims to a principal: tenant and plan claims, sub and default plan as fallbacks", async () => {
    const { auth } = setup({ JWT_DEFAULT_PLAN: "free" });
    const sign = (claims: Record<string, unknown>) =>
      new SignJWT(claims).setProtectedHeader({ alg: "HS256" }).setIssuer("iss").setAudience("aud").setSubject("u1").setExpirationTime("5m").sign(new TextEncoder().encode(SECRET));
    expect(await auth.authenticate(ctxWith({ authorization: `Bearer ${await sign({ tenant: "acme", plan: "pro" })}` }))).toEqual({
      id: "jwt:iss|u1",
      kind: "jwt",
      tenant: "acme",
      plan: "pro",
    });
    expect(await auth.authenticate(ctxWith({ authorization: `Bearer ${await sign({})}` }))).toMatchObject({ tenant: "u1", plan: "free" });
    const unknown = await failure(auth.authenticate(ctxWith({ authorization: `Bearer ${await sign({ plan: "gold" })}` })));
    expect(unknown.code).toBe(Code.PermissionDenied);
  });

  it("403s a model outside the plan", () => {
    const { auth } = setup();
    const principal = { id: "key:1", kind: "api-key", tenant: "acme", plan: "free" } as const;
    expect(() => auth.authorize(principal, "iris")).not.toThrow();
    try {
      auth.authorize(principal, "mlp-wide");
      throw new Error("expected permission_denied");
    } catch (error) {
      expect((error as GatewayError).code).toBe(Code.PermissionDenied);
      expect((error as GatewayError).httpStatus).toBe(403);
      expect((error as GatewayError).message).toBe('plan "free" does not include model "mlp-wide"');
    }
  });
});

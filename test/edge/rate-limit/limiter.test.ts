import { Code } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { GatewayError } from "../../../edge/errors.js";
import { createRequestContext, detachedScope, type RequestContext } from "../../../edge/pipeline/context.js";
import { parsePlans } from "../../../edge/plans/plans.js";
import { parseRateLimitConfig } from "../../../edge/rate-limit/config.js";
import { formatPolicy, formatRemaining, retryAfterSeconds } from "../../../edge/rate-limit/headers.js";
import { bucketShape, createRateLimiter, refillWaitMs } from "../../../edge/rate-limit/limiter.js";
import { penaltyMs, penaltySchedule } from "../../../edge/rate-limit/penalty.js";

describe("RateLimit headers", () => {
  it("formats the IETF structured-field lists", () => {
    expect(formatPolicy([{ name: "requests", quota: 60, windowS: 60 }, { name: "cost", quota: 600, windowS: 60 }])).toBe(
      '"requests";q=60;w=60, "cost";q=600;w=60',
    );
    expect(formatRemaining([{ name: "requests", remaining: 59.7, resetS: 1 }, { name: "cost", remaining: -3, resetS: 2.9 }])).toBe(
      '"requests";r=59;t=1, "cost";r=0;t=2',
    );
    expect([retryAfterSeconds(0), retryAfterSeconds(1), retryAfterSeconds(1000), retryAfterSeconds(1001)]).toEqual([1, 1, 1, 2]);
  });
});

describe("penalty arithmetic", () => {
  it("doubles from the base up to the cap", () => {
    const schedule = penaltySchedule(1, 10);
    expect(schedule).toEqual([1000, 2000, 4000, 8000, 10000]);
    expect([1, 2, 3, 4, 5, 6, 50].map((n) => penaltyMs(schedule, n))).toEqual([1000, 2000, 4000, 8000, 10000, 10000, 10000]);
    expect(penaltySchedule(0, 60)).toEqual([]);
    expect(penaltyMs([], 3)).toBe(0);
    expect(penaltySchedule(5, 5)).toEqual([5000]);
  });
});

describe("bucket shape", () => {
  it("refills smoothly at exactly quota per window", () => {
    expect(bucketShape(50, 2)).toEqual({ maxTokens: 50, intervalMs: 40, refillRate: 1 });
    expect(bucketShape(60, 60)).toEqual({ maxTokens: 60, intervalMs: 1000, refillRate: 1 });
    expect(bucketShape(600000, 60)).toEqual({ maxTokens: 600000, intervalMs: 1, refillRate: 10 });
    const odd = bucketShape(7, 60);
    expect(odd.intervalMs).toBe(1000);
    expect((odd.refillRate * 60_000) / odd.intervalMs).toBeCloseTo(7);
  });

  it("computes the wait for n tokens from an empty bucket", () => {
    const shape = bucketShape(50, 2); // 1 token / 40 ms
    expect(refillWaitMs(shape, 1, 1030, 1000)).toBe(30);
    expect(refillWaitMs(shape, 8, 1030, 1000)).toBe(30 + 7 * 40);
  });
});

/**
 * A stand-in for @upstash/redis's pipeline: records each exec (= one HTTP
 * round trip) and answers token-bucket scripts from a scripted verdict.
 */
function fakeRedis() {
  const state = {
    execs: [] as string[][],
    fail: false,
    hang: false,
    verdict: (_keys: string[], _args: unknown[]): [number, number, number] => [10, Date.now() + 40, 50],
    blockTtl: -2,
    strike: [1, 1000] as [number, number],
  };
  const redis = {
    pipeline() {
      const commands: { name: string; keys: string[]; args: unknown[] }[] = [];
      const p = {
        evalsha: (_sha: string, keys: string[], args: unknown[]) => (commands.push({ name: "evalsha", keys, args }), p),
        eval: (_s: string, keys: string[], args: unknown[]) => (commands.push({ name: "eval", keys, args }), p),
        pttl: (key: string) => (commands.push({ name: "pttl", keys: [key], args: [] }), p),
        get: (key: string) => (commands.push({ name: "get", keys: [key], args: [] }), p),
        set: (key: string) => (commands.push({ name: "set", keys: [key], args: [] }), p),
        async exec() {
          state.execs.push(commands.map((c) => c.name));
          if (state.hang) await new Promise((r) => setTimeout(r, 1000));
          if (state.fail) throw new Error("bridge answered 503");
          return commands.map((c) => {
            if (c.name === "pttl") return { result: state.blockTtl };
            if (c.name === "eval" && c.keys[0]!.includes("strikes")) return { result: state.strike };
            return { result: state.verdict(c.keys, c.args) };
          });
        },
      };
      return p;
    },
  };
  return { state, redis: redis as never };
}

function ctx(): RequestContext {
  const c = createRequestContext({ scope: detachedScope("t"), maxTimeoutMs: 5000 });
  c.dispose();
  return c;
}

const plans = parsePlans('{"p":{"requests":100,"cost":50,"window_s":2,"models":"*","per_model":{"big":{"cost":20}}}}');
const principal = { id: "key:abc", kind: "api-key", tenant: "t", plan: "p" } as const;

async function denied(promise: Promise<unknown>): Promise<GatewayError> {
  try {
    await promise;
  } catch (error) {
    return error as GatewayError;
  }
  throw new Error("expected a denial");
}

describe("rate limiter", () => {
  it("spends one round trip per request: both buckets and the penalty check in one pipeline", async () => {
    const { state, redis } = fakeRedis();
    const limiter = createRateLimiter({ plans, config: parseRateLimitConfig({}), redis, timeoutMs: 200 });
    const c = ctx();
    await limiter.admit(principal, { model: "iris", cost: 8 }, c);
    expect(state.execs).toEqual([["evalsha", "evalsha", "pttl"]]);
    expect(c.scope.responseHeaders.get("ratelimit-policy")).toBe('"requests";q=100;w=2, "cost";q=50;w=2');
    expect(c.scope.responseHeaders.get("ratelimit")).toMatch(/^"requests";r=10;t=\d+, "cost";r=10;t=\d+$/);
    // Metadata calls (cost 0) only touch the requests bucket.
    await limiter.admit(principal, { model: "", cost: 0 }, ctx());
    expect(state.execs[1]).toEqual(["evalsha", "pttl"]);
  });

  it("denies with 429 + Retry-After + RateLimit headers, records a strike, then answers from memory", async () => {
    const { state, redis } = fakeRedis();
    state.verdict = (keys) => (keys[0]!.includes(":cost:") ? [-1, Date.now() + 40, 50] : [10, Date.now() + 40, 100]);
    state.strike = [1, 1000];
    const limiter = createRateLimiter({ plans, config: parseRateLimitConfig({}), redis, timeoutMs: 200 });
    const error = await denied(limiter.admit(principal, { model: "iris", cost: 5 }, ctx()));
    expect(error.code).toBe(Code.ResourceExhausted);
    expect(error.httpStatus).toBe(429);
    expect(error.message).toBe("rate limit exceeded for plan 'p' (repeated overuse): retry after 1 s");
    expect(error.headers["retry-after"]).toBe("1");
    expect(error.headers["ratelimit-policy"]).toBe('"requests";q=100;w=2, "cost";q=50;w=2');
    expect(error.headers["ratelimit"]).toMatch(/"cost";r=0;t=1/);
    const trips = state.execs.length; // batch + strike (+ refund of the requests bucket)
    const again = await denied(limiter.admit(principal, { model: "iris", cost: 1 }, ctx()));
    expect(again.code).toBe(Code.ResourceExhausted);
    expect(state.execs.length).toBe(trips);
  });

  it("honours a penalty block set by another instance", async () => {
    const { state, redis } = fakeRedis();
    state.blockTtl = 4000;
    const limiter = createRateLimiter({ plans, config: parseRateLimitConfig({}), redis, timeoutMs: 200 });
    const error = await denied(limiter.admit(principal, { model: "iris", cost: 1 }, ctx()));
    expect(error.message).toMatch(/repeated overuse\): retry after 4 s/);
  });

  it("refuses a request that can never fit the plan with invalid_argument", async () => {
    const { redis } = fakeRedis();
    const limiter = createRateLimiter({ plans, config: parseRateLimitConfig({}), redis, timeoutMs: 200 });
    const error = await denied(limiter.admit(principal, { model: "big", cost: 21 }, ctx()));
    expect(error.code).toBe(Code.InvalidArgument);
  });

  it("fails open or closed, as configured, when Redis errors or is slow", async () => {
    for (const mode of ["open", "closed"] as const) {
      for (const how of ["fail", "hang"] as const) {
        const { state, redis } = fakeRedis();
        state[how] = true;
        const limiter = createRateLimiter({ plans, config: parseRateLimitConfig({ RATE_LIMIT_FAILURE_MODE: mode }), redis, timeoutMs: 50 });
        const started = Date.now();
        const result = limiter.admit(principal, { model: "iris", cost: 1 }, ctx());
        if (mode === "open") await expect(result).resolves.toBeUndefined();
        else expect((await denied(result)).code).toBe(Code.Unavailable);
        expect(Date.now() - started).toBeLessThan(500);
      }
    }
  });

  it("is off without Redis (admits everything)", async () => {
    const limiter = createRateLimiter({ plans, config: parseRateLimitConfig({}), redis: null, timeoutMs: 0 });
    for (let i = 0; i < 3; i++) await limiter.admit(principal, { model: "iris", cost: 50 }, ctx());
  });
});

/**
 * A Redis stand-in that runs the token-bucket script's arithmetic (the
 * library's Lua, in JS) per key, so the limiter's own counting is what the
 * tests below observe.
 */
function bucketRedis(clock: { now: number }) {
  const buckets = new Map<string, { refilledAt: number; tokens: number }>();
  const touched: string[] = [];
  const redis = {
    pipeline() {
      const replies: unknown[] = [];
      const p = {
        evalsha: (_sha: string, keys: string[], args: unknown[]) => {
          const [maxTokens, interval, refillRate, , incrementBy] = (args as (string | number)[]).map(Number) as number[];
          const key = keys[0]!;
          touched.push(key);
          const b = buckets.get(key) ?? { refilledAt: clock.now, tokens: maxTokens! };
          if (clock.now >= b.refilledAt + interval!) {
            const refills = Math.floor((clock.now - b.refilledAt) / interval!);
            b.tokens = Math.min(maxTokens!, b.tokens + refills * refillRate!);
            b.refilledAt += refills * interval!;
          }
          if (incrementBy! > 0 && b.tokens < incrementBy!) replies.push({ result: [-1, b.refilledAt + interval!, maxTokens] });
          else {
            b.tokens -= incrementBy!;
            buckets.set(key, b);
            replies.push({ result: [b.tokens, b.refilledAt + interval!, maxTokens] });
          }
          return p;
        },
        eval: (_s: string, _keys: string[], _args: unknown[]) => (replies.push({ result: [1, 0] }), p),
        pttl: (_key: string) => (replies.push({ result: -2 }), p),
        async exec() {
          return replies;
        },
      };
      return p;
    },
  };
  return { redis: redis as never, buckets, touched };
}

describe("requests bucket", () => {
  const plans = parsePlans('{"p":{"requests":3,"cost":1000,"window_s":3,"models":"*"}}');
  const config = parseRateLimitConfig({ RATE_LIMIT_PENALTY_BASE_S: "0" });
  const caller = { id: "key:r", kind: "api-key", tenant: "t", plan: "p" } as const;

  it("admits plan.requests calls per principal across models, then refuses with 'requests' until one token is back", async () => {
    const clock = { now: 1_000_000 };
    const { redis, buckets } = bucketRedis(clock);
    const limiter = createRateLimiter({ plans, config, redis, timeoutMs: 1000, now: () => clock.now });
    for (const model of ["iris", "mlp-wide", ""]) await limiter.admit(caller, { model, cost: model === "" ? 0 : 1 }, ctx());
    const c = ctx();
    const error = await denied(limiter.admit(caller, { model: "ocr", cost: 1 }, c));
    expect(error.code).toBe(Code.ResourceExhausted);
    expect(error.message).toBe("rate limit exceeded for plan 'p' (requests): retry after 1 s");
    expect(c.scope.responseHeaders.get("ratelimit")).toMatch(/^"requests";r=0;t=1, "cost";r=1000;/);
    // The refused call's cost was refunded (once the background refund has run).
    await new Promise((r) => setTimeout(r, 0));
    expect(buckets.get("rl:p:req:key:r")!.tokens).toBe(0);
    expect(buckets.get("rl:p:cost:key:r|ocr")!.tokens).toBe(1000);
    // One request per second comes back (3 per 3 s): after it, exactly one more call fits.
    clock.now += 1000;
    await limiter.admit(caller, { model: "iris", cost: 1 }, ctx());
    expect((await denied(limiter.admit(caller, { model: "iris", cost: 1 }, ctx()))).message).toMatch(/\(requests\)/);
    // Another principal has its own bucket.
    await limiter.admit({ ...caller, id: "key:other" }, { model: "iris", cost: 1 }, ctx());
  });

  it("a cost-only charge leaves the requests bucket alone, and refunds the request its first half took when refused", async () => {
    const clock = { now: 2_000_000 };
    const { redis, buckets, touched } = bucketRedis(clock);
    const small = parsePlans('{"p":{"requests":3,"cost":4,"window_s":60,"models":"*"}}');
    const limiter = createRateLimiter({ plans: small, config, redis, timeoutMs: 1000, now: () => clock.now });
    const c = ctx();
    await limiter.admit(caller, { model: "iris", cost: 0 }, c);
    await limiter.admit(caller, { model: "iris", cost: 3, countRequest: false }, c);
    expect(touched).toEqual(["rl:p:req:key:r", "rl:p:cost:key:r|iris"]);
    expect(buckets.get("rl:p:req:key:r")!.tokens).toBe(2);
    expect(c.scope.responseHeaders.get("ratelimit")).toMatch(/^"requests";r=2;t=\d+, "cost";r=1;t=\d+$/);
    const d = ctx();
    await limiter.admit(caller, { model: "iris", cost: 0 }, d);
    expect(buckets.get("rl:p:req:key:r")!.tokens).toBe(1);
    const error = await denied(limiter.admit(caller, { model: "iris", cost: 3, countRequest: false }, d));
    expect(error.message).toMatch(/\(cost\)/);
    await new Promise((r) => setTimeout(r, 0));
    expect(buckets.get("rl:p:req:key:r")!.tokens).toBe(2);
  });
});

import { describe, expect, it } from "vitest";
import { RetryBudget } from "../../../edge/upstream/budget.js";
import { WorkerPool } from "../../../edge/upstream/pool.js";

const pool = (n: number, now = () => 0) =>
  new WorkerPool(Array.from({ length: n }, (_, i) => ({ url: `http://w${i}`, client: i })), { cooldownMs: 1000, now });

describe("WorkerPool", () => {
  it("round-robins among equally loaded workers", () => {
    const p = pool(3);
    expect([1, 2, 3, 4].map(() => p.pick()!.url)).toEqual(["http://w0", "http://w1", "http://w2", "http://w0"]);
  });

  it("prefers the worker with the fewest requests in flight", () => {
    const p = pool(3);
    p.endpoints[0]!.inFlight = 2;
    p.endpoints[1]!.inFlight = 1;
    expect(p.pick()!.url).toBe("http://w2");
  });

  it("skips excluded workers and returns undefined once all were tried", () => {
    const p = pool(2);
    const a = p.pick()!;
    const b = p.pick(new Set([a]))!;
    expect(b).not.toBe(a);
    expect(p.pick(new Set([a, b]))).toBeUndefined();
  });

  it("avoids a failed worker during its cool-down, then uses it again", () => {
    let t = 0;
    const p = pool(2, () => t);
    p.markFailed(p.endpoints[0]!);
    expect([p.pick()!.url, p.pick()!.url]).toEqual(["http://w1", "http://w1"]);
    t = 1001;
    expect([p.pick()!.url, p.pick()!.url].sort()).toEqual(["http://w0", "http://w1"]);
  });

  it("still tries a cooling worker when every worker is cooling (soonest recovery first)", () => {
    let t = 0;
    const p = pool(2, () => t);
    p.markFailed(p.endpoints[1]!);
    t = 10;
    p.markFailed(p.endpoints[0]!);
    expect(p.pick()!.url).toBe("http://w1");
  });
});

describe("RetryBudget", () => {
  it("allows the floor of retries even with no traffic", () => {
    const b = new RetryBudget({ floor: 2, ratio: 0.2, now: () => 0 });
    expect([b.tryRetry(), b.tryRetry(), b.tryRetry()]).toEqual([true, true, false]);
  });

  it("allows retries up to ratio × recent requests plus the floor", () => {
    const b = new RetryBudget({ floor: 0, ratio: 0.2, now: () => 0 });
    for (let i = 0; i < 10; i++) b.recordRequest();
    expect([b.tryRetry(), b.tryRetry(), b.tryRetry()]).toEqual([true, true, false]);
  });

  it("forgets requests and retries once they leave the window", () => {
    let t = 0;
    const b = new RetryBudget({ floor: 1, ratio: 0, windowMs: 1000, now: () => t });
    expect(b.tryRetry()).toBe(true);
    expect(b.tryRetry()).toBe(false);
    t = 1100;
    expect(b.tryRetry()).toBe(true);
  });
});

import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { createTieredCache, forCaller, ttlFor } from "../../../edge/cache/tiered.js";
import { createRequestContext } from "../../../edge/pipeline/context.js";
import type { ModelInferResponse } from "../../../gen/inference/grpc_service_pb.js";
import { ALICE, BOB, MODEL, MemoryStore, answer, context, request } from "./support.js";

const CONFIG = { defaultTtlS: 300, maxEntryBytes: 1024 };

function setup() {
  const l1 = new MemoryStore("l1");
  const l2 = new MemoryStore("l2");
  const cache = createTieredCache(CONFIG, { stores: [l1, l2] });
  let upstreamCalls = 0;
  const call = async (req = request(), headers: Record<string, string> = {}, principal = ALICE, model = MODEL) => {
    const ctx = context(headers);
    const response = await cache.through({ principal, model, request: req }, ctx, async () => {
      upstreamCalls++;
      return answer(req);
    });
    await ctx.settle();
    ctx.dispose();
    return { response, headers: ctx.scope.responseHeaders, timings: ctx.scope.timings };
  };
  return { l1, l2, cache, call, calls: () => upstreamCalls };
}

describe("tiered cache", () => {
  it("misses, stores in both tiers, then hits L1 without calling upstream", async () => {
    const t = setup();
    const miss = await t.call();
    expect(miss.headers.get("x-cache")).toBe("MISS");
    expect(miss.headers.get("cache-status")).toBe("edge; fwd=miss; stored");
    expect(miss.timings).toEqual([expect.objectContaining({ name: "cache", description: "miss" })]);
    expect(t.l1.entries.size).toBe(1);
    expect(t.l2.entries.size).toBe(1);

    const hit = await t.call(request(undefined, "req-2"));
    expect(hit.headers.get("x-cache")).toBe("HIT");
    expect(hit.headers.get("cache-status")).toBe("edge; hit; detail=l1");
    expect(hit.timings).toEqual([expect.objectContaining({ name: "cache", description: "l1" })]);
    expect(t.calls()).toBe(1);
    expect(hit.response.id).toBe("req-2");
    expect(hit.response.outputs).toEqual(miss.response.outputs);
    expect(hit.response.rawOutputContents).toEqual(miss.response.rawOutputContents);
  });

  it("never stores the caller's id", async () => {
    const t = setup();
    await t.call(request(undefined, "secret-id"));
    const stored = [...t.l2.entries.values()][0]!;
    expect(new TextDecoder().decode(stored.bytes)).not.toContain("secret-id");
  });

  it("hits L2 when L1 is empty and backfills L1 with the same expiry", async () => {
    const t = setup();
    await t.call();
    t.l1.entries.clear();
    const hit = await t.call();
    expect(hit.headers.get("x-cache")).toBe("HIT");
    expect(hit.headers.get("cache-status")).toBe("edge; hit; detail=l2");
    expect(hit.timings[0]!.description).toBe("l2");
    expect(t.l1.entries.size).toBe(1);
    expect([...t.l1.entries.values()][0]!.expiresAt).toBe([...t.l2.entries.values()][0]!.expiresAt);
    expect(t.calls()).toBe(1);
  });

  it("uses the model TTL, else the default", async () => {
    expect(ttlFor(60, 300)).toBe(60);
    expect(ttlFor(undefined, 300)).toBe(300);
    expect(ttlFor(0, 300)).toBe(0);
    const t = setup();
    const before = Date.now();
    await t.call(request(), {}, ALICE, { ...MODEL, cacheTtlS: 60 });
    const expiresAt = [...t.l2.entries.values()][0]!.expiresAt;
    expect(expiresAt - before).toBeGreaterThanOrEqual(60_000);
    expect(expiresAt - before).toBeLessThan(61_000);
    await t.call(request([9, 9, 9, 9]), {}, ALICE, { ...MODEL, cacheTtlS: undefined });
    const longest = Math.max(...[...t.l2.entries.values()].map((e) => e.expiresAt));
    expect(longest - before).toBeGreaterThanOrEqual(300_000);
  });

  it("does not store answers above the size cap (still MISS)", async () => {
    const l1 = new MemoryStore("l1");
    const cache = createTieredCache({ defaultTtlS: 300, maxEntryBytes: 64 }, { stores: [l1] });
    const req = request();
    const ctx = context();
    await cache.through({ principal: ALICE, model: MODEL, request: req }, ctx, async () => answer(req, 1000));
    await ctx.settle();
    expect(ctx.scope.responseHeaders.get("x-cache")).toBe("MISS");
    expect(ctx.scope.responseHeaders.get("cache-status")).toBe("edge; fwd=miss");
    expect(l1.puts).toBe(0);
  });

  it("bypasses non-deterministic models, TTL 0 and no-store: no read, no write", async () => {
    const t = setup();
    for (const [model, headers] of [
      [{ ...MODEL, deterministic: false }, {}],
      [{ ...MODEL, cacheTtlS: 0 }, {}],
      [MODEL, { "cache-control": "no-store" }],
    ] as const) {
      const r = await t.call(request(), headers, ALICE, model);
      expect(r.headers.get("x-cache")).toBe("BYPASS");
      expect(r.headers.get("cache-status")).toMatch(/^edge; fwd=bypass; detail=/);
    }
    expect(t.calls()).toBe(3);
    expect(t.l1.gets + t.l2.gets + t.l1.puts + t.l2.puts).toBe(0);
  });

  it("no-cache skips the read, calls upstream and refreshes the entry", async () => {
    const t = setup();
    await t.call();
    const before = [...t.l1.entries.values()][0]!;
    const gets = t.l1.gets;
    const r = await t.call(request(), { "cache-control": "no-cache" });
    expect(r.headers.get("x-cache")).toBe("MISS");
    expect(r.headers.get("cache-status")).toBe("edge; fwd=request; stored");
    expect(t.calls()).toBe(2);
    expect(t.l1.gets).toBe(gets);
    expect([...t.l1.entries.values()][0]).not.toBe(before);
    expect((await t.call()).headers.get("x-cache")).toBe("HIT");
  });

  it("keeps tenants' private entries apart, and shares public ones", async () => {
    const t = setup();
    await t.call(request(), {}, ALICE);
    expect((await t.call(request(), {}, BOB)).headers.get("x-cache")).toBe("MISS");
    expect((await t.call(request(), {}, ALICE)).headers.get("x-cache")).toBe("HIT");
    expect(t.calls()).toBe(2);
    const pub = { ...MODEL, cachePublic: true };
    await t.call(request([5, 5, 5, 5]), {}, ALICE, pub);
    expect((await t.call(request([5, 5, 5, 5]), {}, BOB, pub)).headers.get("x-cache")).toBe("HIT");
  });

  it("a new model version misses", async () => {
    const t = setup();
    await t.call();
    expect((await t.call(request(), {}, ALICE, { ...MODEL, version: "2" })).headers.get("x-cache")).toBe("MISS");
  });

  it("treats failing tiers as misses and never fails the request", async () => {
    const t = setup();
    t.l1.failing = true;
    t.l2.failing = true;
    expect((await t.call()).headers.get("x-cache")).toBe("MISS");
    expect((await t.call()).headers.get("x-cache")).toBe("MISS");
    t.l1.failing = false;
    t.l2.failing = false;
    await t.call();
    expect((await t.call()).headers.get("x-cache")).toBe("HIT");
  });

  it("a corrupt entry reads as a miss", async () => {
    const t = setup();
    await t.call();
    for (const [k, e] of t.l1.entries) t.l1.entries.set(k, { ...e, bytes: new Uint8Array([0xff, 0xff, 0xff]) });
    t.l2.entries.clear();
    expect((await t.call()).headers.get("x-cache")).toBe("MISS");
  });

  it("does not cache upstream errors", async () => {
    const t = setup();
    const ctx = context();
    await expect(
      t.cache.through({ principal: ALICE, model: MODEL, request: request() }, ctx, async () => {
        throw new Error("boom");
      }),
    ).rejects.toThrow("boom");
    await ctx.settle();
    expect(t.l1.puts + t.l2.puts).toBe(0);
  });

  it("returns outputs in the caller's requested order on a hit", async () => {
    const t = setup();
    await t.call(request(undefined, "a", ["probabilities", "label"]));
    const hit = await t.call(request(undefined, "b", ["label", "probabilities"]));
    expect(hit.headers.get("x-cache")).toBe("HIT");
    expect(hit.response.outputs.map((o) => o.name)).toEqual(["label", "probabilities"]);
    expect(hit.response.rawOutputContents[0]).toEqual(new Uint8Array([7]));
  });
});

describe("single-flight", () => {
  it("N concurrent identical misses make one upstream call; followers say collapsed", async () => {
    const l1 = new MemoryStore("l1");
    const cache = createTieredCache(CONFIG, { stores: [l1] });
    let calls = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const contexts = Array.from({ length: 5 }, () => context());
    const results = contexts.map((ctx, i) => {
      const req = request(undefined, `id-${i}`);
      return cache.through({ principal: ALICE, model: MODEL, request: req }, ctx, async () => {
        calls++;
        await gate;
        return answer(req);
      });
    });
    await new Promise((r) => setTimeout(r, 10));
    release();
    const responses = await Promise.all(results);
    expect(calls).toBe(1);
    expect(responses.map((r) => r.id)).toEqual(["id-0", "id-1", "id-2", "id-3", "id-4"]);
    const statuses = contexts.map((c) => c.scope.responseHeaders.get("cache-status"));
    expect(statuses.filter((s) => s === "edge; fwd=miss; collapsed")).toHaveLength(4);
    expect(contexts.every((c) => c.scope.responseHeaders.get("x-cache") === "MISS")).toBe(true);
    // The shared answer's bytes are not copied per caller.
    expect(responses[1]!.rawOutputContents[0]).toBe(responses[0]!.rawOutputContents[0]);
    for (const c of contexts) c.dispose();
  });

  it("different keys do not coalesce; bypassed models never do", async () => {
    const cache = createTieredCache(CONFIG, { stores: [] });
    let calls = 0;
    const run = (values: number[], model = MODEL) => {
      const req = request(values);
      return cache.through({ principal: ALICE, model, request: req }, context(), async () => {
        calls++;
        await new Promise((r) => setTimeout(r, 5));
        return answer(req);
      });
    };
    await Promise.all([run([1, 1, 1, 1]), run([2, 2, 2, 2])]);
    expect(calls).toBe(2);
    const slow = { ...MODEL, deterministic: false };
    await Promise.all([run([1, 1, 1, 1], slow), run([1, 1, 1, 1], slow)]);
    expect(calls).toBe(4);
  });

  it("a follower that gives up stops waiting; the leader still gets its answer", async () => {
    const cache = createTieredCache(CONFIG, { stores: [] });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const req = request();
    let entered!: () => void;
    const leaderWorking = new Promise<void>((r) => (entered = r));
    const miss = async (): Promise<ModelInferResponse> => {
      entered();
      await gate;
      return answer(req);
    };
    const leader = cache.through({ principal: ALICE, model: MODEL, request: req }, context(), miss);
    // Once the leader works, its flight is registered, so the follower joins
    // it rather than racing it to become the leader.
    await leaderWorking;
    const abort = new AbortController();
    const follower = cache.through({ principal: ALICE, model: MODEL, request: req }, context({}, abort.signal), miss);
    await new Promise((r) => setTimeout(r, 5));
    abort.abort();
    await expect(follower).rejects.toMatchObject({ message: "client cancelled the request" });
    release();
    expect((await leader).modelName).toBe("iris");
  });

  it("when the leader is cancelled, a live follower makes its own call", async () => {
    const cache = createTieredCache(CONFIG, { stores: [] });
    let calls = 0;
    const req = request();
    let entered!: () => void;
    const leaderWorking = new Promise<void>((r) => (entered = r));
    const miss = (ctx: ReturnType<typeof context>) => async (): Promise<ModelInferResponse> => {
      calls++;
      entered();
      await new Promise<void>((resolve, reject) => {
        // Long enough that the abort below lands while the leader still works, even on a loaded machine.
        const t = setTimeout(resolve, 200);
        ctx.signal.addEventListener("abort", () => {
          clearTimeout(t);
          reject(ctx.signal.reason);
        });
      });
      return answer(req);
    };
    const abort = new AbortController();
    const leaderCtx = context({}, abort.signal);
    const followerCtx = context();
    const leader = cache.through({ principal: ALICE, model: MODEL, request: req }, leaderCtx, miss(leaderCtx));
    await leaderWorking; // the leader's flight is registered: the second call joins it
    const follower = cache.through({ principal: ALICE, model: MODEL, request: req }, followerCtx, miss(followerCtx));
    await new Promise((r) => setTimeout(r, 5));
    abort.abort();
    await expect(leader).rejects.toBeDefined();
    expect((await follower).modelName).toBe("iris");
    expect(calls).toBe(2);
  });

  /**
   * A leader and a follower (bob, on a public model, so another tenant
   * shares the flight) for the same request; the follower joins once the
   * leader works. `leaderMiss` decides how the leader's call ends.
   */
  async function leaderAndFollower(leaderCtx: ReturnType<typeof context>, leaderMiss: (entered: () => void) => Promise<ModelInferResponse>) {
    const cache = createTieredCache(CONFIG, { stores: [] });
    const model = { ...MODEL, cachePublic: true };
    const req = request();
    let entered!: () => void;
    const leaderWorking = new Promise<void>((r) => (entered = r));
    let followerCalls = 0;
    const leader = cache.through({ principal: ALICE, model, request: req }, leaderCtx, () => leaderMiss(entered));
    leader.catch(() => undefined);
    await leaderWorking; // the leader's flight is registered: the follower joins it
    const followerCtx = context();
    const followerReq = request(undefined, "bob-1");
    const follower = cache.through({ principal: BOB, model, request: followerReq }, followerCtx, async () => {
      followerCalls++;
      return answer(followerReq);
    });
    // Keys are hashed asynchronously: a moment lets the follower join the flight.
    await new Promise((r) => setTimeout(r, 20));
    return { leader, follower, followerCtx, followerCalls: () => followerCalls };
  }

  it("a leader's own input error is not its follower's: the follower makes its own call", async () => {
    let fail!: () => void;
    const failed = new Promise<void>((r) => (fail = r));
    const t = await leaderAndFollower(context(), async (entered) => {
      entered();
      await failed;
      throw new ConnectError("input has both typed contents and raw_input_contents", Code.InvalidArgument);
    });
    // The follower is waiting on the flight by the time its own context exists and the leader fails next.
    fail();
    await expect(t.leader).rejects.toThrow("both typed contents");
    const response = await t.follower;
    expect(response.id).toBe("bob-1");
    expect(t.followerCalls()).toBe(1);
    // Not stored: this cache has no tiers.
    expect(t.followerCtx.scope.responseHeaders.get("cache-status")).toBe("edge; fwd=miss; detail=leader-failed");
  });

  it("a leader's own short deadline is not its follower's", async () => {
    const leaderCtx = Object.assign(
      createRequestContext({ scope: context().scope, maxTimeoutMs: 5_000, clientTimeoutMs: 300 }),
      { pending: [], settle: async () => undefined },
    );
    const t = await leaderAndFollower(leaderCtx, (entered) =>
      new Promise<ModelInferResponse>((_, reject) => {
        leaderCtx.signal.addEventListener("abort", () => reject(leaderCtx.signal.reason));
        entered();
      }),
    );
    await expect(t.leader).rejects.toMatchObject({ code: Code.DeadlineExceeded });
    expect((await t.follower).id).toBe("bob-1");
    expect(t.followerCalls()).toBe(1);
    expect(t.followerCtx.scope.responseHeaders.get("cache-status")).toBe("edge; fwd=miss; detail=leader-failed");
  });

  it("a follower never touches the leader's signal (in workerd it belongs to the leader's request)", async () => {
    // The leader's signal throws, as workerd's does in another request, once
    // the leader has started: only the leader's own work may use it.
    const owner = new AbortController();
    let armed = false;
    const foreign = new Proxy(owner.signal, {
      get(target, property) {
        if (armed) throw new Error("Cannot perform I/O on behalf of a different request");
        const value = Reflect.get(target, property, target) as unknown;
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const base = context();
    const leaderCtx = { ...base, signal: foreign, remainingMs: () => base.remainingMs() };
    const t = await leaderAndFollower(leaderCtx as ReturnType<typeof context>, (entered) =>
      new Promise<ModelInferResponse>((_, reject) => {
        owner.signal.addEventListener("abort", () => reject(new ConnectError("the call was cancelled by its caller", Code.Canceled)));
        armed = true;
        entered();
      }),
    );
    await new Promise((r) => setTimeout(r, 5));
    owner.abort();
    await expect(t.leader).rejects.toMatchObject({ code: Code.Canceled });
    expect((await t.follower).id).toBe("bob-1");
    expect(t.followerCalls()).toBe(1);
    expect(t.followerCtx.scope.responseHeaders.get("cache-status")).toBe("edge; fwd=miss; detail=leader-failed");
  });

  it("followers of a failed flight share one new flight, not one call each", async () => {
    const cache = createTieredCache(CONFIG, { stores: [] });
    const req = request();
    let calls = 0;
    let fail!: () => void;
    const failed = new Promise<void>((r) => (fail = r));
    let entered!: () => void;
    const leaderWorking = new Promise<void>((r) => (entered = r));
    const leader = cache.through({ principal: ALICE, model: MODEL, request: req }, context(), async () => {
      entered();
      await failed;
      throw new ConnectError("leader's own deadline", Code.DeadlineExceeded);
    });
    leader.catch(() => undefined);
    await leaderWorking;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const contexts = Array.from({ length: 4 }, () => context());
    const followers = contexts.map((ctx, i) => {
      const own = request(undefined, `f${i}`);
      return cache.through({ principal: ALICE, model: MODEL, request: own }, ctx, async () => {
        calls++;
        await gate;
        return answer(own);
      });
    });
    // Keys are hashed asynchronously: a moment lets all four join the leader's flight before it fails.
    await new Promise((r) => setTimeout(r, 50));
    fail();
    await expect(leader).rejects.toThrow("leader's own deadline");
    release();
    expect((await Promise.all(followers)).map((r) => r.id)).toEqual(["f0", "f1", "f2", "f3"]);
    expect(calls).toBe(1);
    expect(contexts.map((c) => c.scope.responseHeaders.get("cache-status")).sort()).toEqual([
      ...Array(3).fill("edge; fwd=miss; collapsed; detail=leader-failed"),
      "edge; fwd=miss; detail=leader-failed",
    ]);
  });

  it("a work that keeps failing reaches each follower from its own call, after at most two flights", async () => {
    const cache = createTieredCache(CONFIG, { stores: [] });
    const req = request();
    let calls = 0;
    const miss = async (): Promise<ModelInferResponse> => {
      calls++;
      await new Promise((r) => setTimeout(r, 20));
      throw new ConnectError("bad input", Code.InvalidArgument);
    };
    const results = await Promise.allSettled(
      Array.from({ length: 3 }, () => cache.through({ principal: ALICE, model: MODEL, request: req }, context(), miss)),
    );
    expect(results.every((r) => r.status === "rejected" && ConnectError.from(r.reason).code === Code.InvalidArgument)).toBe(true);
    expect(calls).toBeLessThanOrEqual(3);
  });
});

describe("forCaller", () => {
  it("sets the id without touching the shared response", () => {
    const shared = answer(request());
    const mine = forCaller(shared, request(undefined, "mine"));
    expect(mine.id).toBe("mine");
    expect(shared.id).toBe("req-1");
    expect(mine.rawOutputContents).toBe(shared.rawOutputContents);
  });
});

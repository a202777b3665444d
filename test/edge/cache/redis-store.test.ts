import { describe, expect, it } from "vitest";
import { decodeValue, encodeValue, fromBase64, redisStore, toBase64, type RedisLike } from "../../../edge/cache/redis-store.js";

class FakeRedis implements RedisLike {
  readonly data = new Map<string, string>();
  mode: "ok" | "fail" | "hang" = "ok";
  calls = 0;
  lastPx = 0;
  private gate<T>(value: () => T): Promise<T> {
    this.calls++;
    if (this.mode === "fail") return Promise.reject(new Error("ECONNREFUSED"));
    if (this.mode === "hang") return new Promise(() => undefined);
    return Promise.resolve(value());
  }
  get(key: string) {
    return this.gate(() => this.data.get(key) ?? null);
  }
  set(key: string, value: string, options: { px: number }) {
    this.lastPx = options.px;
    return this.gate(() => void this.data.set(key, value));
  }
}

const entry = (bytes = new Uint8Array([0, 1, 2, 250, 255]), ttlMs = 60_000) => ({ bytes, expiresAt: Date.now() + ttlMs });

describe("L2 Redis store", () => {
  it("round-trips binary bytes as text with the remaining lifetime as PX", async () => {
    const redis = new FakeRedis();
    const store = redisStore(redis, { timeoutMs: 50 });
    const e = entry();
    await store.put("k", e);
    expect(redis.data.get("k")).toMatch(/^v1\|\d+\|/);
    expect(redis.lastPx).toBeGreaterThan(59_000);
    expect(await store.get("k")).toEqual(e);
    expect(await store.get("absent")).toBeNull();
  });

  it("ignores values that are not ours or have expired", async () => {
    const redis = new FakeRedis();
    const store = redisStore(redis, { timeoutMs: 50 });
    redis.data.set("json", '{"a":1}');
    redis.data.set("old", encodeValue({ bytes: new Uint8Array([1]), expiresAt: Date.now() - 1 }));
    redis.data.set("garbage", "v1|123|@@@");
    expect(await store.get("json")).toBeNull();
    expect(await store.get("old")).toBeNull();
    expect(decodeValue("v1|9999999999999|@@@", 0)).toBeNull();
  });

  it("a failing or hanging Redis reads as a miss within the timeout, then rests, then recovers", async () => {
    let clock = 1_000_000;
    const now = () => clock;
    const redis = new FakeRedis();
    const store = redisStore(redis, { timeoutMs: 20, coolDownMs: 1_000, now });
    await store.put("k", { bytes: new Uint8Array([1]), expiresAt: clock + 60_000 });

    redis.mode = "hang";
    const started = Date.now();
    expect(await store.get("k")).toBeNull();
    expect(Date.now() - started).toBeLessThan(500);

    // Resting: Redis is not even asked.
    const calls = redis.calls;
    expect(await store.get("k")).toBeNull();
    await store.put("k2", { bytes: new Uint8Array([1]), expiresAt: clock + 60_000 });
    expect(redis.calls).toBe(calls);

    redis.mode = "fail";
    clock += 1_001;
    expect(await store.get("k")).toBeNull();
    expect(redis.calls).toBe(calls + 1);

    redis.mode = "ok";
    clock += 1_001;
    expect(await store.get("k")).not.toBeNull();
  });

  it("base64 helpers handle large and empty inputs", () => {
    const big = new Uint8Array(200_000).map((_, i) => (i * 31) & 255);
    expect(Buffer.from(fromBase64(toBase64(big))!).equals(Buffer.from(big))).toBe(true);
    expect(fromBase64(toBase64(new Uint8Array(0)))).toEqual(new Uint8Array(0));
    expect(fromBase64("not base64!")).toBeNull();
  });
});

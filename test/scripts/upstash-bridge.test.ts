// The local Upstash REST bridge, driven by the unchanged @upstash/redis client
// (and @upstash/ratelimit) over a real redis-server, plus raw HTTP where the
// protocol's exact shape is the point. Each test names what it pins down.
import { createHash } from "node:crypto";
import { Ratelimit } from "@upstash/ratelimit";
import type { Redis } from "@upstash/redis";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { stripUnknownFlags } from "../../scripts/upstash-bridge/lua-flags.js";
import { startRedisStack, type RedisStack } from "../support/redis-stack.js";
import { waitFor } from "../support/ports.js";

let stack: RedisStack;
let redis: Redis;

beforeAll(async () => {
  stack = await startRedisStack();
  redis = stack.client();
});
afterAll(async () => {
  await stack?.close();
});
beforeEach(async () => {
  await stack.startRedis(); // a no-op unless an outage test left it stopped
  await stack.flush();
});

async function raw(path: string, body: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${stack.restUrl}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${stack.token}`, "content-type": "application/json", ...headers },
    body,
  });
  return { status: res.status, json: (await res.json()) as unknown };
}

describe("upstash bridge with the @upstash/redis client", () => {
  it("round-trips strings byte-exactly, including unicode, NUL, newlines and JSON-looking text", async () => {
    const values = ["plain", "héllo wörld ✓ 🚀", "a\u0000b\nc\r\n\t\"'\\", "OK", "", "{not json"];
    for (const [i, value] of values.entries()) {
      expect(await redis.set(`s:${i}`, value)).toBe("OK");
      expect(await redis.get(`s:${i}`)).toBe(value);
    }
  });

  it("serializes objects as JSON and hands them back parsed, as the client promises", async () => {
    const doc = { model: "iris", shape: [2, 4], nested: { ok: true, score: 0.25 }, label: "setosa ✓" };
    await redis.set("doc", doc);
    expect(await redis.get("doc")).toEqual(doc);
  });

  it("returns integers as numbers and missing keys as null (neither base64-encoded)", async () => {
    expect(await redis.incr("n")).toBe(1);
    expect(await redis.incrby("n", 41)).toBe(42);
    expect(await redis.get("missing")).toBeNull();
    expect(await redis.del("missing")).toBe(0);
  });

  it("handles lists and hashes (nested arrays are decoded element by element)", async () => {
    expect(await redis.rpush("list", "a", "b ✓", "c")).toBe(3);
    expect(await redis.lrange("list", 0, -1)).toEqual(["a", "b ✓", "c"]);
    expect(await redis.hset("h", { f1: "v1", f2: 7 })).toBe(2);
    expect(await redis.hgetall("h")).toEqual({ f1: "v1", f2: 7 });
    expect(await redis.hget("h", "nope")).toBeNull();
  });

  it("applies expiry: SET EX sets a TTL, and an expired key reads as null", async () => {
    await redis.set("ex", "v", { ex: 100 });
    const ttl = await redis.ttl("ex");
    expect(ttl).toBeGreaterThan(90);
    expect(ttl).toBeLessThanOrEqual(100);
    await redis.set("px", "v", { px: 50 });
    await new Promise((r) => setTimeout(r, 120));
    expect(await redis.get("px")).toBeNull();
    expect(await redis.ttl("px")).toBe(-2);
  });

  it("runs pipeline() in order and returns each result", async () => {
    const results = await redis.pipeline().set("p", "1").incr("p").get("p").hset("ph", { a: "x" }).hgetall("ph").exec();
    expect(results).toEqual(["OK", 2, 2, 1, { a: "x" }]);
  });

  it("reports a failing command inside a pipeline per entry, leaving the others' results", async () => {
    await redis.set("str", "text");
    const results = await redis.pipeline().incr("str").set("after", "yes").exec({ keepErrors: true });
    expect(results[0]!.error).toMatch(/ERR value is not an integer/);
    expect(results[1]!.result).toBe("OK");
    expect(await redis.get("after")).toBe("yes");
  });

  it("runs multi() as a real MULTI/EXEC transaction", async () => {
    expect(await redis.multi().set("m", "1").incr("m").get("m").exec()).toEqual(["OK", 2, 2]);
    // A runtime error inside EXEC fails that command only; Redis still ran the rest.
    await redis.set("str", "text");
    await expect(redis.multi().incr("str").set("m2", "ran").exec()).rejects.toThrow(/Command 1 \[ incr \] failed: ERR value is not an integer/);
    expect(await redis.get("m2")).toBe("ran");
  });

  it("refuses a whole transaction when Redis rejects a command while queueing (EXECABORT)", async () => {
    const res = await raw("/multi-exec", JSON.stringify([["SET", "q", "1"], ["SET", "only-key"]]));
    expect(res.status).toBe(400);
    expect((res.json as { error: string }).error).toMatch(/EXECABORT.*wrong number of arguments/);
    expect(await redis.exists("q")).toBe(0);
  });

  it("supports EVAL and EVALSHA, with the NOSCRIPT fallback Script and @upstash/ratelimit rely on", async () => {
    expect(await redis.eval("return {KEYS[1], ARGV[1], 7}", ["k"], ["v ✓"])).toEqual(["k", "v ✓", 7]);
    await redis.scriptFlush();
    const sha = await redis.scriptLoad("return 1");
    await redis.scriptFlush();
    await expect(redis.evalsha(sha, [], [])).rejects.toThrow(/NOSCRIPT/);
    const script = redis.createScript<number>("return tonumber(ARGV[1]) * 2");
    expect(await script.exec([], ["21"])).toBe(42); // EVALSHA -> NOSCRIPT -> EVAL
    expect(await script.exec([], ["5"])).toBe(10); // now cached: EVALSHA succeeds
  });

  it("runs scripts with Upstash-only shebang flags, and EVALSHA finds them by the client's SHA1", async () => {
    // @upstash/ratelimit's scripts start like this; redis-server rejects the flag.
    const text = "#!lua flags=allow-key-locking,no-writes\nreturn ARGV[1]";
    const sha = createHash("sha1").update(text).digest("hex");
    await redis.scriptFlush();
    await expect(redis.evalsha(sha, [], ["x"])).rejects.toThrow(/NOSCRIPT/);
    expect(await redis.eval(text, [], ["first"])).toBe("first");
    expect(await redis.evalsha(sha, [], ["cached"])).toBe("cached"); // no second EVAL needed
    expect(await redis.scriptLoad(text)).toBe(sha);
    expect(await redis.scriptExists(sha)).toEqual([1]);
  });

  it("lets a real @upstash/ratelimit token bucket limit through the bridge", async () => {
    const limiter = new Ratelimit({ redis, limiter: Ratelimit.tokenBucket(1, "1 m", 2), prefix: "test-rl" });
    const outcomes = [];
    for (let i = 0; i < 3; i++) outcomes.push(await limiter.limit("client-a"));
    expect(outcomes.map((o) => o.success)).toEqual([true, true, false]);
    expect(outcomes[2]!.remaining).toBe(0);
    expect(outcomes[2]!.reset).toBeGreaterThan(Date.now());
    expect((await limiter.limit("client-b")).success).toBe(true); // buckets are per identifier
  });

  it("surfaces a Redis error as the client's error carrying Redis's message", async () => {
    await redis.set("str", "text");
    await expect(redis.incr("str")).rejects.toThrow(/ERR value is not an integer or out of range/);
  });
});

describe("upstash bridge protocol details", () => {
  it("base64-encodes every string (also nested) when asked, and leaves integers and nil alone", async () => {
    // string.char gives bytes that are not valid UTF-8: only base64 carries them exactly.
    const script = "redis.call('SET', KEYS[1], string.char(0, 255, 128)); return {redis.call('GET', KEYS[1]), 5, false, 'ok'}";
    const res = await raw("/", JSON.stringify(["EVAL", script, "1", "bin"]), { "upstash-encoding": "base64" });
    expect(res).toEqual({ status: 200, json: { result: ["AP+A", 5, null, Buffer.from("ok").toString("base64")] } });
    const plain = await raw("/", JSON.stringify(["GET", "missing"]), { "upstash-encoding": "base64" });
    expect(plain.json).toEqual({ result: null });
  });

  it("answers in plain UTF-8 without the encoding header, and serves path-style commands", async () => {
    expect(await raw("/set/greeting", "héllo")).toEqual({ status: 200, json: { result: "OK" } });
    const res = await fetch(`${stack.restUrl}/get/greeting`, { headers: { authorization: `Bearer ${stack.token}` } });
    expect(await res.json()).toEqual({ result: "héllo" });
    expect((await raw("/incrby/count/5", "")).json).toEqual({ result: 5 });
  });

  it("answers a Redis error on a single command with 400 {error}", async () => {
    const res = await raw("/", JSON.stringify(["NOSUCHCOMMAND"]));
    expect(res.status).toBe(400);
    expect((res.json as { error: string }).error).toMatch(/^ERR unknown command/);
  });

  it("requires the bearer token: missing or wrong gives 401, and the client throws", async () => {
    expect((await raw("/", '["PING"]', { authorization: "Bearer wrong" })).status).toBe(401);
    expect((await fetch(`${stack.restUrl}/get/x`)).status).toBe(401);
    const { Redis } = await import("@upstash/redis");
    const intruder = new Redis({ url: stack.restUrl, token: "wrong", enableTelemetry: false, retry: { retries: 0 } });
    await expect(intruder.get("x")).rejects.toThrow(/Unauthorized/);
  });

  it("rejects malformed JSON and bad command shapes with 400 and a clear message", async () => {
    const broken = await raw("/", '["SET", "k"');
    expect(broken.status).toBe(400);
    expect((broken.json as { error: string }).error).toMatch(/malformed JSON/);
    expect((await raw("/", '{"cmd":"GET"}')).status).toBe(400);
    expect((await raw("/", '["GET", {"x":1}]')).status).toBe(400);
    expect((await raw("/pipeline", "[]")).status).toBe(400);
  });

  it("refuses commands that would block or change the shared connection", async () => {
    const res = await raw("/", JSON.stringify(["BLPOP", "q", "0"]));
    expect(res.status).toBe(400);
    expect((res.json as { error: string }).error).toMatch(/not supported/);
  });

  it("refuses an oversized body with 413", async () => {
    const res = await raw("/", JSON.stringify(["SET", "big", "x".repeat(11 * 1024 * 1024)]));
    expect(res.status).toBe(413);
  });
});

describe("lua shebang flag translation", () => {
  it("drops only the flags redis-server does not know, and leaves other scripts untouched", () => {
    expect(stripUnknownFlags("#!lua flags=allow-key-locking\nreturn 1")).toBe("#!lua \nreturn 1");
    expect(stripUnknownFlags("#!lua flags=no-writes,allow-key-locking\nreturn 1")).toBe("#!lua flags=no-writes\nreturn 1");
    expect(stripUnknownFlags("#!lua flags=no-writes\nreturn 1")).toBeNull();
    expect(stripUnknownFlags("return 1")).toBeNull();
  });
});

describe("upstash bridge when Redis goes away", () => {
  it("fails fast with a 5xx while Redis is down, then recovers once it is back", async () => {
    await redis.set("survivor", "before");
    await stack.stopRedis();

    const started = Date.now();
    await expect(redis.get("survivor")).rejects.toThrow(/redis unavailable/);
    await expect(redis.pipeline().get("a").get("b").exec()).rejects.toThrow(/redis unavailable/);
    expect(Date.now() - started).toBeLessThan(2_000);
    const res = await raw("/", '["PING"]');
    expect(res.status).toBe(503);

    await stack.startRedis();
    // Reconnect backoff is capped at 1 s; the data is gone (no persistence).
    await waitFor("bridge reconnect", async () => (await redis.ping()) === "PONG", 10_000);
    expect(await redis.get("survivor")).toBeNull();
    expect(await redis.set("survivor", "after")).toBe("OK");
  });
});

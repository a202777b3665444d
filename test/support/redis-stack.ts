// A private Redis for integration tests: its own redis-server on a free port
// (never the machine's shared 6379) behind an in-process Upstash REST bridge
// with a random token. Tests can stop and restart the redis-server to
// exercise outages; the bridge stays up throughout.
import { randomBytes } from "node:crypto";
import { Redis } from "@upstash/redis";
import { startRedisServer, type RedisChild } from "../../scripts/local-redis.js";
import { startBridge } from "../../scripts/upstash-bridge/server.js";
import { freePort } from "./ports.js";

export interface RedisStack {
  readonly redisPort: number;
  readonly restUrl: string;
  readonly token: string;
  /** Vars to pass to startEdge(): UPSTASH_REDIS_REST_URL / UPSTASH_REDIS_REST_TOKEN. */
  edgeVars(): Record<string, string>;
  /** A @upstash/redis client (Node) against the bridge, for assertions and seeding. */
  client(): Redis;
  /** Kills this stack's redis-server (the bridge stays up). */
  stopRedis(): Promise<void>;
  /** Starts it again on the same port. */
  startRedis(): Promise<void>;
  /** FLUSHALL on this stack's redis. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

export async function startRedisStack(): Promise<RedisStack> {
  const redisPort = await freePort();
  let server: RedisChild | undefined = await startRedisServer(redisPort);
  const token = randomBytes(24).toString("base64url");
  const bridge = await startBridge({
    redisUrl: `redis://127.0.0.1:${redisPort}`,
    token,
    port: await freePort(),
    host: "127.0.0.1",
    // Outages are deliberate in tests; keep their logs out of the output.
    log: () => {},
  }).catch(async (error: unknown) => {
    await server?.stop();
    throw error;
  });

  const client = () =>
    // No retries (note `retry: false` still means one retry in this client):
    // a test that stopped Redis wants the failure at once.
    new Redis({ url: bridge.url, token, enableTelemetry: false, retry: { retries: 0 } });

  return {
    redisPort,
    restUrl: bridge.url,
    token,
    edgeVars: () => ({ UPSTASH_REDIS_REST_URL: bridge.url, UPSTASH_REDIS_REST_TOKEN: token }),
    client,
    async stopRedis() {
      await server?.stop(2_000);
      server = undefined;
    },
    async startRedis() {
      if (!server) server = await startRedisServer(redisPort);
    },
    async flush() {
      await client().flushall();
    },
    async close() {
      await bridge.close();
      await server?.stop(2_000);
      server = undefined;
    },
  };
}

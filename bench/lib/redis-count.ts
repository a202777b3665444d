// Counts the Redis work the edge does, two ways, neither adding a hop:
//   round trips: HTTP requests reaching the in-process Upstash REST bridge
//     (test/support/redis-stack.ts), seen through Node's built-in
//     `http.server.request.start` diagnostics channel and told apart by path
//     (/pipeline, /multi-exec, single commands);
//   commands: `INFO commandstats` on the stack's own redis-server, before and
//     after (commands run inside Lua scripts count too; the INFO calls made
//     here are left out).
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import type { IncomingMessage, Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createClient } from "redis";

export interface RedisCounts {
  /** HTTP requests to the bridge (each one Redis round trip for the edge). */
  trips: number;
  /** Of which POST /pipeline (and /multi-exec). */
  pipelines: number;
  /** redis-server commands by name (lower case), INFO excluded. */
  commands: Record<string, number>;
}

export interface RedisCounter {
  /** Counts since the last snapshot/start. */
  snapshot(): Promise<RedisCounts>;
  /** The bridge requests seen so far (cheap; for waiting until background work settles). */
  readonly trips: number;
  close(): Promise<void>;
}

const CHANNEL = "http.server.request.start";

export async function startRedisCounter(bridgeUrl: string, redisPort: number): Promise<RedisCounter> {
  const bridgePort = Number(new URL(bridgeUrl).port);
  let trips = 0;
  let pipelines = 0;
  const onRequest = (message: unknown): void => {
    const { request, server } = message as { request: IncomingMessage; server: Server };
    const address = server.address() as AddressInfo | null;
    if (address?.port !== bridgePort) return;
    trips++;
    const path = (request.url ?? "").split("?")[0]!.replace(/\/+$/, "");
    if (path === "/pipeline" || path === "/multi-exec") pipelines++;
  };
  subscribe(CHANNEL, onRequest);

  const client = createClient({ url: `redis://127.0.0.1:${redisPort}`, socket: { connectTimeout: 2_000, reconnectStrategy: false } });
  client.on("error", () => undefined);
  await client.connect();

  async function commandStats(): Promise<Map<string, number>> {
    const text = await client.info("commandstats");
    const out = new Map<string, number>();
    for (const match of text.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) out.set(match[1]!.toLowerCase(), Number(match[2]));
    return out;
  }

  let base = { trips, pipelines, commands: await commandStats() };
  return {
    get trips() {
      return trips;
    },
    async snapshot() {
      const commands = await commandStats();
      const diff: Record<string, number> = {};
      for (const [name, calls] of commands) {
        if (name === "info") continue;
        const delta = calls - (base.commands.get(name) ?? 0);
        if (delta > 0) diff[name] = delta;
      }
      const out = { trips: trips - base.trips, pipelines: pipelines - base.pipelines, commands: diff };
      base = { trips, pipelines, commands };
      return out;
    },
    async close() {
      unsubscribe(CHANNEL, onRequest);
      await client.quit().catch(() => undefined);
    },
  };
}

// A small stand-in for Upstash's REST API in front of a real redis-server, so
// the unchanged @upstash/redis client (and @upstash/ratelimit on top of it)
// works locally and in tests. Routes:
//   POST /                JSON array command            -> {result} | {error}
//   GET|POST /cmd/arg/... path-style command; a POST body is the last argument
//   POST /pipeline        [[cmd...], ...]               -> [{result}|{error}, ...]
//   POST /multi-exec      same, inside MULTI/EXEC
// `Upstash-Sync-Token` (read-your-writes across replicas) is accepted and
// ignored: one redis-server has no replicas, so every read already sees every
// write, and the client treats a missing token in the answer as "none".
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { BridgeError, parseCommand, runPipeline, runSingle, runTransaction } from "./commands.js";
import { connectRedis, type RedisConnection } from "./connection.js";
import { requestedEncoding } from "./encoding.js";
import { withLuaFlagTranslation } from "./lua-flags.js";
import { authorized, parseJson, readBody, sendJson } from "./http.js";

export interface BridgeOptions {
  redisUrl: string;
  token: string;
  port: number;
  host?: string;
  maxBodyBytes?: number;
  commandTimeoutMs?: number;
  log?: (line: string) => void;
}

export interface Bridge {
  readonly url: string;
  close(): Promise<void>;
}

export async function startBridge(options: BridgeOptions): Promise<Bridge> {
  if (options.token === "") throw new Error("the bridge needs a non-empty token");
  const host = options.host ?? "127.0.0.1";
  const maxBodyBytes = options.maxBodyBytes ?? 10 * 1024 * 1024;
  const log = options.log ?? ((line: string) => console.error(`[bridge] ${line}`));
  const redis = withLuaFlagTranslation(
    connectRedis({ url: options.redisUrl, commandTimeoutMs: options.commandTimeoutMs ?? 5_000, log }),
  );

  const server = createServer((req, res) => {
    handle(req, res, redis, options.token, maxBodyBytes).catch((error: unknown) => {
      const known = error instanceof BridgeError;
      if (!known) log(`internal error: ${(error as Error)?.stack ?? String(error)}`);
      if (res.headersSent) return void res.destroy();
      const status = known ? error.status : 500;
      // After a refused oversized body the rest is unread: close the connection.
      sendJson(res, status, { error: known ? error.message : "ERR internal bridge error" }, status === 413);
    });
  });
  server.keepAliveTimeout = 60_000;
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  // Give a freshly started Redis a moment so the first request does not race
  // the handshake; bounded, and the bridge serves 503s until Redis is there.
  const deadline = Date.now() + 2_000;
  while (!redis.ready && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));

  return {
    url: `http://${host.includes(":") ? `[${host}]` : host}:${port}`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await redis.close();
    },
  };
}

async function handle(req: IncomingMessage, res: ServerResponse, redis: RedisConnection, token: string, maxBodyBytes: number) {
  const url = new URL(req.url ?? "/", "http://bridge");
  if (!authorized(req, url, token)) {
    req.resume(); // drain so keep-alive connections stay usable
    return sendJson(res, 401, { error: "Unauthorized" });
  }
  if (req.method !== "GET" && req.method !== "POST") {
    req.resume();
    res.setHeader("allow", "GET, POST");
    return sendJson(res, 405, { error: "ERR only GET and POST are supported" });
  }
  const encoding = requestedEncoding(req.headers["upstash-encoding"]);
  const body = await readBody(req, maxBodyBytes);
  const path = url.pathname.replace(/\/+$/, "");

  if (path === "/pipeline" || path === "/multi-exec") {
    const value = parseJson(body);
    if (!Array.isArray(value) || value.length === 0) {
      throw new BridgeError(400, `ERR ${path} expects a non-empty JSON array of commands`);
    }
    const commands = value.map((command, i) => parseCommand(command, `command ${i + 1}`));
    const run = path === "/pipeline" ? runPipeline : runTransaction;
    return sendJson(res, 200, await run(redis, commands, encoding));
  }
  if (path === "/subscribe" || path === "/psubscribe" || path.startsWith("/subscribe/") || path.startsWith("/psubscribe/")) {
    throw new BridgeError(400, "ERR pub/sub streams are not supported by the local Upstash bridge");
  }

  let args: string[];
  if (path === "") {
    args = parseCommand(parseJson(body), "the command");
  } else {
    // Path-style: /set/key/value, or POST /set/key with the value as body.
    try {
      args = path.slice(1).split("/").map((part) => decodeURIComponent(part));
    } catch {
      throw new BridgeError(400, "ERR malformed percent-encoding in the path");
    }
    if (req.method === "POST" && body.length > 0) args.push(body.toString("utf8"));
  }
  const entry = await runSingle(redis, args, encoding);
  return sendJson(res, 200, entry);
}

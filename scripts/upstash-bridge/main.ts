// CLI entry: `tsx scripts/upstash-bridge/main.ts` runs the bridge alone.
// Environment: BRIDGE_TOKEN (required), BRIDGE_PORT (8079), BRIDGE_HOST
// (127.0.0.1), REDIS_URL (redis://127.0.0.1:6379).
import { startBridge } from "./server.js";

const env = process.env;
const token = env.BRIDGE_TOKEN ?? "";
const port = Number(env.BRIDGE_PORT ?? 8079);
if (token === "") {
  console.error("[bridge] BRIDGE_TOKEN must be set (clients send it as `Authorization: Bearer <token>`)");
  process.exit(2);
}
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`[bridge] BRIDGE_PORT must be a port number, got ${JSON.stringify(env.BRIDGE_PORT)}`);
  process.exit(2);
}

const redisUrl = env.REDIS_URL ?? "redis://127.0.0.1:6379";
const bridge = await startBridge({ redisUrl, token, port, host: env.BRIDGE_HOST ?? "127.0.0.1" });
console.log(`[bridge] Upstash REST bridge on ${bridge.url} -> ${redisUrl}`);

const stop = () => void bridge.close().then(() => process.exit(0));
process.once("SIGINT", stop);
process.once("SIGTERM", stop);

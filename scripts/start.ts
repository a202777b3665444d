// `npm start`: the whole local stack on defaults, with readable prefixed logs
// and a clean shutdown on Ctrl-C. Builds the model repository if needed,
// starts the GPU worker(s) (CPU here), Redis (a redis-server child if nothing
// answers at REDIS_URL) behind our Upstash REST bridge, then the edge under
// `wrangler dev`.
//
// A worker that exits on its own is restarted on its port after a backoff
// (0.5 s doubling to 10 s, loudly logged), so the edge's pool fails over to the
// others meanwhile and picks it up again; WORKER_MAX_CRASHES crashes of one
// worker within a minute stop the stack (see restart-policy.ts). Any other
// child (edge, Redis) exiting on its own stops the stack.
//
// Environment (all optional): EDGE_HOST, EDGE_PORT (8787), WORKER_HOST,
// WORKER_PORT (8001, first worker; more use the following ports), WORKERS (1),
// WORKER_MAX_CRASHES (5),
// MODEL_REPOSITORY (./models), REDIS_URL (redis://127.0.0.1:6379),
// BRIDGE_PORT (8079), plus anything gpu-worker/config.ts reads. With
// UPSTASH_REDIS_REST_URL and UPSTASH_REDIS_REST_TOKEN set, the edge uses that
// (hosted) Upstash instead and no local Redis or bridge is started.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { redisAddress, redisAnswers, startRedisServer } from "./local-redis.js";
import { DEFAULT_RESTART_POLICY, RestartPolicy } from "./restart-policy.js";
import { startBridge, type Bridge } from "./upstash-bridge/server.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const env = process.env;
const edgeHost = env.EDGE_HOST ?? "127.0.0.1";
const edgePort = Number(env.EDGE_PORT ?? 8787);
const workerHost = env.WORKER_HOST ?? "127.0.0.1";
const firstWorkerPort = Number(env.WORKER_PORT ?? 8001);
const workerCount = Number(env.WORKERS ?? 1);
const redisUrl = env.REDIS_URL ?? "redis://127.0.0.1:6379";
const bridgePort = Number(env.BRIDGE_PORT ?? 8079);
const maxCrashes = Number(env.WORKER_MAX_CRASHES ?? DEFAULT_RESTART_POLICY.maxCrashes);
const hostedUpstash = env.UPSTASH_REDIS_REST_URL && env.UPSTASH_REDIS_REST_TOKEN
  ? { url: env.UPSTASH_REDIS_REST_URL, token: env.UPSTASH_REDIS_REST_TOKEN }
  : null;

for (const [name, value] of Object.entries({
  EDGE_PORT: edgePort,
  WORKER_PORT: firstWorkerPort,
  WORKERS: workerCount,
  BRIDGE_PORT: bridgePort,
  WORKER_MAX_CRASHES: maxCrashes,
})) {
  if (!Number.isInteger(value) || value < 1 || value > 65535) {
    console.error(`[start] ${name} must be a positive integer port/count, got ${JSON.stringify(env[name])}`);
    process.exit(2);
  }
}

const children: ChildProcess[] = [];
let bridge: Bridge | undefined;
let stopping = false;

/** Any child but a worker dying on its own takes the whole stack down (loudly). */
function watch(name: string, child: ChildProcess): void {
  children.push(child);
  child.on("exit", (code, signal) => {
    if (!stopping) {
      console.error(`[start] ${name} exited unexpectedly (${signal ?? `code ${code}`}); stopping the stack`);
      void shutdown(1);
    }
  });
}

function spawnChild(name: string, command: string, args: string[], extraEnv: Record<string, string>): ChildProcess {
  const child = spawn(command, args, {
    cwd: ROOT,
    env: { ...env, WRANGLER_SEND_METRICS: "false", FORCE_COLOR: "0", ...extraEnv },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const prefix = (chunk: Buffer) =>
    chunk
      .toString()
      .split("\n")
      .filter((line) => line.trim() !== "")
      .map((line) => `[${name}] ${line.replace(/^\[(worker|edge)\] /, "")}\n`)
      .join("");
  child.stdout!.on("data", (chunk: Buffer) => process.stdout.write(prefix(chunk)));
  child.stderr!.on("data", (chunk: Buffer) => process.stderr.write(prefix(chunk)));
  return child;
}

function run(name: string, command: string, args: string[], extraEnv: Record<string, string> = {}): ChildProcess {
  const child = spawnChild(name, command, args, extraEnv);
  watch(name, child);
  return child;
}

/**
 * Starts a worker and restarts it whenever it exits on its own, as
 * RestartPolicy decides; stops the stack when the policy gives up.
 */
function superviseWorker(name: string, port: number): void {
  const policy = new RestartPolicy({ ...DEFAULT_RESTART_POLICY, maxCrashes });
  const start = (restarted: boolean) => {
    if (stopping) return;
    const child = spawnChild(name, process.execPath, ["--import", "tsx", "gpu-worker/main.ts"], {
      WORKER_HOST: workerHost,
      WORKER_PORT: String(port),
    });
    children.push(child);
    console.log(`[start] ${name} running as pid ${child.pid} on port ${port}`);
    if (restarted) void announceBack(name, child, `http://${workerHost}:${port}/v2/health/ready`);
    child.on("exit", (code, signal) => {
      children.splice(children.indexOf(child), 1);
      if (stopping) return;
      const how = signal ?? `code ${code}`;
      const decision = policy.crashed(Date.now());
      if (!decision.restart) {
        console.error(
          `[start] !!! ${name} exited unexpectedly (${how}): crash ${decision.crashesInWindow} within ${DEFAULT_RESTART_POLICY.windowMs / 1000} s reaches WORKER_MAX_CRASHES=${maxCrashes}; stopping the stack !!!`,
        );
        void shutdown(1);
        return;
      }
      console.error(
        `[start] !!! ${name} exited unexpectedly (${how}); restarting it in ${decision.delayMs / 1000} s (crash ${decision.crashesInWindow} of ${maxCrashes} allowed within ${DEFAULT_RESTART_POLICY.windowMs / 1000} s) !!!`,
      );
      setTimeout(() => start(true), decision.delayMs);
    });
  };
  start(false);
}

/** Logs once a restarted worker answers its readiness probe (a later crash is logged by its supervisor). */
async function announceBack(name: string, child: ChildProcess, url: string): Promise<void> {
  while (!stopping && child.exitCode === null && child.signalCode === null) {
    try {
      if ((await fetch(url)).ok) {
        console.log(`[start] ${name} is back (pid ${child.pid})`);
        return;
      }
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function waitReady(name: string, url: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !stopping) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  if (!stopping) throw new Error(`${name} was not ready at ${url} within ${timeoutMs / 1000} s`);
}

async function shutdown(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.log("[start] stopping…");
  const exits = children
    .filter((c) => c.exitCode === null && c.signalCode === null)
    .map((c) => new Promise<void>((resolve) => {
      c.once("exit", () => resolve());
      c.kill("SIGTERM");
      setTimeout(() => c.kill("SIGKILL"), 35_000).unref();
    }));
  await Promise.all([...exits, bridge?.close()]);
  process.exit(code);
}

process.on("SIGINT", () => void shutdown(0));
process.on("SIGTERM", () => void shutdown(0));

async function main(): Promise<void> {
  const built = spawnSync(process.execPath, ["--import", "tsx", "scripts/build-models.ts", "--no-measure"], { cwd: ROOT, stdio: "inherit" });
  if (built.status !== 0) throw new Error("building the model repository failed");
  // The playground (wrangler.toml [assets]): must exist before wrangler dev starts.
  const page = spawnSync(process.execPath, ["--import", "tsx", "playground/build.ts"], { cwd: ROOT, stdio: "inherit" });
  if (page.status !== 0) throw new Error("building the playground failed");

  const workerUrls: string[] = [];
  for (let i = 0; i < workerCount; i++) {
    const port = firstWorkerPort + i;
    superviseWorker(workerCount === 1 ? "worker" : `worker-${i + 1}`, port);
    workerUrls.push(`http://${workerHost}:${port}`);
  }
  await Promise.all(workerUrls.map((url, i) => waitReady(`worker ${i + 1}`, `${url}/v2/health/ready`)));

  const upstash = hostedUpstash ?? (await startLocalRedis());
  if (stopping) return;
  console.log("[start] anonymous access is ON under the 'development' plan (local stack only)");

  run("edge", process.execPath, [
    "node_modules/wrangler/bin/wrangler.js",
    "dev",
    "--ip", edgeHost,
    "--port", String(edgePort),
    "--var", `WORKER_URLS:${workerUrls.join(",")}`,
    "--var", "ENVIRONMENT:development",
    "--var", `UPSTASH_REDIS_REST_URL:${upstash.url}`,
    "--var", `UPSTASH_REDIS_REST_TOKEN:${upstash.token}`,
    "--var", "AUTH_ANONYMOUS_PLAN:development",
    "--show-interactive-dev-session=false",
  ]);
  const edgeUrl = `http://${edgeHost}:${edgePort}`;
  await waitReady("edge", `${edgeUrl}/v2/health/ready`);

  console.log(`
[start] ready
  edge    ${edgeUrl}   (REST /v2/..., Connect and gRPC-Web /inference.GRPCInferenceService/...)
  page    ${edgeUrl}/   (playground: every protocol side by side; browser client at ${edgeUrl}/client.js)
  workers ${workerUrls.join(", ")}   (Connect, gRPC, gRPC-Web over h2c or HTTP/1.1; /metrics)
  redis   ${hostedUpstash ? `hosted Upstash ${hostedUpstash.url}` : `${upstash.url} (Upstash REST bridge) -> ${redisUrl}`}
  try:    curl ${edgeUrl}/v2/models/iris
          curl -X POST ${edgeUrl}/v2/models/iris/infer -H 'content-type: application/json' \\
            -d '{"inputs":[{"name":"input","datatype":"FP32","shape":[1,4],"data":[5.1,3.5,1.4,0.2]}]}'
  Ctrl-C stops everything.
`);
}

/**
 * Uses the Redis at REDIS_URL, starting a redis-server child on its port when
 * nothing answers there (loopback only), and puts the Upstash REST bridge in
 * front with a fresh random token, so nothing else on this machine can use
 * the bridge by guessing.
 */
async function startLocalRedis(): Promise<{ url: string; token: string }> {
  const { host, port } = redisAddress(redisUrl);
  if (await redisAnswers(host, port)) {
    console.log(`[start] using the Redis already answering at ${redisUrl}`);
  } else if (host === "127.0.0.1" || host === "localhost" || host === "::1") {
    console.log(`[start] nothing answers at ${redisUrl}; starting redis-server on 127.0.0.1:${port} (no persistence)`);
    const redis = await startRedisServer(port);
    watch("redis", redis.process);
  } else {
    throw new Error(`no Redis answers at ${redisUrl} (set REDIS_URL to a reachable Redis, or leave it local)`);
  }
  const token = randomBytes(24).toString("base64url");
  bridge = await startBridge({
    redisUrl,
    token,
    port: bridgePort,
    host: "127.0.0.1",
    log: (line) => console.error(`[bridge] ${line}`),
  });
  return { url: bridge.url, token };
}

main().catch((error: Error) => {
  console.error(`[start] ${error.message}`);
  void shutdown(1);
});

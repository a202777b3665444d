// `npm start`: the whole local stack on defaults, with readable prefixed logs
// and a clean shutdown on Ctrl-C. Builds the model repository if needed,
// starts the GPU worker(s) (CPU here), then the edge under `wrangler dev`.
//
// Environment (all optional): EDGE_HOST, EDGE_PORT (8787), WORKER_HOST,
// WORKER_PORT (8001, first worker; more use the following ports), WORKERS (1),
// MODEL_REPOSITORY (./models), plus anything gpu-worker/config.ts reads.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const env = process.env;
const edgeHost = env.EDGE_HOST ?? "127.0.0.1";
const edgePort = Number(env.EDGE_PORT ?? 8787);
const workerHost = env.WORKER_HOST ?? "127.0.0.1";
const firstWorkerPort = Number(env.WORKER_PORT ?? 8001);
const workerCount = Number(env.WORKERS ?? 1);

for (const [name, value] of Object.entries({ EDGE_PORT: edgePort, WORKER_PORT: firstWorkerPort, WORKERS: workerCount })) {
  if (!Number.isInteger(value) || value < 1 || value > 65535) {
    console.error(`[start] ${name} must be a positive integer port/count, got ${JSON.stringify(env[name])}`);
    process.exit(2);
  }
}

const children: ChildProcess[] = [];
let stopping = false;

function run(name: string, command: string, args: string[], extraEnv: Record<string, string> = {}): ChildProcess {
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
  child.on("exit", (code, signal) => {
    if (!stopping) {
      console.error(`[start] ${name} exited unexpectedly (${signal ?? `code ${code}`}); stopping the stack`);
      void shutdown(1);
    }
  });
  children.push(child);
  return child;
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
  await Promise.all(exits);
  process.exit(code);
}

process.on("SIGINT", () => void shutdown(0));
process.on("SIGTERM", () => void shutdown(0));

async function main(): Promise<void> {
  const built = spawnSync(process.execPath, ["--import", "tsx", "scripts/build-models.ts", "--no-measure"], { cwd: ROOT, stdio: "inherit" });
  if (built.status !== 0) throw new Error("building the model repository failed");

  const workerUrls: string[] = [];
  for (let i = 0; i < workerCount; i++) {
    const port = firstWorkerPort + i;
    const name = workerCount === 1 ? "worker" : `worker-${i + 1}`;
    run(name, process.execPath, ["--import", "tsx", "gpu-worker/main.ts"], {
      WORKER_HOST: workerHost,
      WORKER_PORT: String(port),
    });
    workerUrls.push(`http://${workerHost}:${port}`);
  }
  await Promise.all(workerUrls.map((url, i) => waitReady(`worker ${i + 1}`, `${url}/v2/health/ready`)));

  run("edge", process.execPath, [
    "node_modules/wrangler/bin/wrangler.js",
    "dev",
    "--ip", edgeHost,
    "--port", String(edgePort),
    "--var", `WORKER_URLS:${workerUrls.join(",")}`,
    "--var", "ENVIRONMENT:development",
    "--show-interactive-dev-session=false",
  ]);
  const edgeUrl = `http://${edgeHost}:${edgePort}`;
  await waitReady("edge", `${edgeUrl}/v2/health/ready`);

  console.log(`
[start] ready
  edge    ${edgeUrl}   (REST /v2/..., Connect and gRPC-Web /inference.GRPCInferenceService/...)
  workers ${workerUrls.join(", ")}   (Connect, gRPC, gRPC-Web over h2c or HTTP/1.1; /metrics)
  try:    curl ${edgeUrl}/v2/models/iris
          curl -X POST ${edgeUrl}/v2/models/iris/infer -H 'content-type: application/json' \\
            -d '{"inputs":[{"name":"input","datatype":"FP32","shape":[1,4],"data":[5.1,3.5,1.4,0.2]}]}'
  Ctrl-C stops everything.
`);
}

main().catch((error: Error) => {
  console.error(`[start] ${error.message}`);
  void shutdown(1);
});

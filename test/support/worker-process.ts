// Starts a real GPU worker process (on CPU here) for integration tests and
// the benchmark: the same entry point `npm start` uses, over real sockets.
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { ROOT } from "./paths.js";
import { freePort, waitFor } from "./ports.js";

export interface WorkerHandle {
  readonly url: string;
  readonly port: number;
  readonly process: ChildProcess;
  /** Everything the process printed so far. */
  output(): string;
  /** Prometheus text from /metrics. */
  metrics(): Promise<string>;
  /** Sends a signal and waits for exit; resolves the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface WorkerOptions {
  repository?: string;
  env?: Record<string, string>;
  port?: number;
}

export async function startWorker(options: WorkerOptions = {}): Promise<WorkerHandle> {
  const port = options.port ?? (await freePort());
  const child = spawn(process.execPath, ["--import", "tsx", join(ROOT, "gpu-worker/main.ts")], {
    cwd: ROOT,
    env: {
      ...process.env,
      WORKER_HOST: "127.0.0.1",
      WORKER_PORT: String(port),
      MODEL_REPOSITORY: options.repository ?? join(ROOT, "models"),
      EXECUTION_PROVIDERS: "cpu",
      ...options.env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let log = "";
  child.stdout.on("data", (chunk: Buffer) => (log += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (log += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const url = `http://127.0.0.1:${port}`;
  const headers: Record<string, string> = options.env?.WORKER_TOKEN
    ? { authorization: `Bearer ${options.env.WORKER_TOKEN}` }
    : {};
  try {
    await waitFor(`worker on ${url}`, async () => {
      if (child.exitCode !== null) throw new Error(`worker exited with ${child.exitCode}:\n${log}`);
      return (await fetch(`${url}/v2/health/ready`)).ok;
    });
  } catch (error) {
    child.kill("SIGKILL");
    throw new Error(`${(error as Error).message}\n--- worker output ---\n${log}`);
  }
  return {
    url,
    port,
    process: child,
    output: () => log,
    metrics: async () => (await fetch(`${url}/metrics`, { headers })).text(),
    async stop(signal = "SIGTERM") {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** Sums a Prometheus counter/histogram series over lines matching all label fragments. */
export function metricValue(text: string, name: string, ...labelFragments: string[]): number {
  let total = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== "{" && rest[0] !== " ") continue;
    if (!labelFragments.every((fragment) => line.includes(fragment))) continue;
    total += Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return total;
}

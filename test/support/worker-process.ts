// Starts a real GPU worker process (on CPU here) for integration tests and
// the benchmark: the same entry point `npm start` uses, over real sockets.
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { ROOT } from "./paths.js";
import { freePort } from "./ports.js";

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
  /** A fixed port (to restart a worker where the edge expects it); by default the worker binds a port of its own. */
  port?: number;
}

/** The worker's startup line (gpu-worker/main.ts), printed at LOG_LEVEL info and below. */
const LISTENING = /worker listening on (http:\/\/\S+)/;

class PortTaken extends Error {}

/**
 * Starts a worker and waits until it is ready. By default it binds port 0
 * and the test reads the port it got from its startup line: a port picked
 * free beforehand could be taken by another process before the child binds
 * it. A worker told to log only warnings prints no startup line; it gets a
 * port picked beforehand, and a fresh one if that was taken meanwhile.
 */
export async function startWorker(options: WorkerOptions = {}): Promise<WorkerHandle> {
  const quiet = ["warn", "error"].includes(options.env?.LOG_LEVEL ?? "");
  for (let attempt = 1; ; attempt++) {
    try {
      return await launch(options, options.port ?? (quiet ? await freePort() : 0));
    } catch (error) {
      if (!(error instanceof PortTaken) || options.port !== undefined || attempt >= 5) throw error;
    }
  }
}

async function launch(options: WorkerOptions, requestedPort: number): Promise<WorkerHandle> {
  const child = spawn(process.execPath, ["--import", "tsx", join(ROOT, "gpu-worker/main.ts")], {
    cwd: ROOT,
    env: {
      ...process.env,
      WORKER_HOST: "127.0.0.1",
      WORKER_PORT: String(requestedPort),
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
  const headers: Record<string, string> = options.env?.WORKER_TOKEN
    ? { authorization: `Bearer ${options.env.WORKER_TOKEN}` }
    : {};
  // "close" comes after the child's output has all been read.
  const closed = new Promise<void>((resolve) => child.once("close", () => resolve()));
  /** Polls `check` until true; fails at once (with the worker's output) if the worker exits meanwhile. */
  const poll = async (what: string, check: () => Promise<boolean>): Promise<void> => {
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) {
        await closed;
        if (/EADDRINUSE/.test(log)) throw new PortTaken(`port ${requestedPort} was taken before the worker bound it`);
        throw new Error(`worker exited with ${child.exitCode ?? child.signalCode} while waiting for ${what}`);
      }
      if (await check().catch(() => false)) return;
      if (Date.now() > deadline) throw new Error(`timed out after 60000 ms waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  let url = requestedPort === 0 ? "" : `http://127.0.0.1:${requestedPort}`;
  try {
    if (url === "") {
      await poll("the worker's startup line", async () => {
        url = LISTENING.exec(log)?.[1] ?? "";
        return url !== "";
      });
    }
    await poll(`worker on ${url}`, async () => (await fetch(`${url}/v2/health/ready`)).ok);
  } catch (error) {
    child.kill("SIGKILL");
    if (error instanceof PortTaken) throw error;
    throw new Error(`${(error as Error).message}\n--- worker output ---\n${log}`);
  }
  return {
    url,
    port: Number(new URL(url).port),
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

// Child processes: one-shot tools with a hard timeout, and long-lived servers
// that are always torn down (their whole process group, since wrangler and
// workerd spawn helpers) even when the bench fails half-way.
import { spawn, type ChildProcess } from "node:child_process";

export interface ToolResult {
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/** Runs a tool to completion; kills it after `timeoutMs` so no run is unbounded. */
export function runTool(
  command: string,
  args: string[],
  timeoutMs: number,
  options: { env?: NodeJS.ProcessEnv; cwd?: string; interruptOn?: string } = {},
): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"], env: options.env ?? process.env, cwd: options.cwd });
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    let interrupted = false;
    child.stdout.on("data", (c: Buffer) => {
      stdout += c.toString();
      // A tool that can only stop on a timer (wrk) says when it is done; SIGINT
      // then ends it early and it still prints its summary.
      if (options.interruptOn && !interrupted && stdout.includes(options.interruptOn)) {
        interrupted = true;
        child.kill("SIGINT");
      }
    });
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    // SIGINT first: wrk and h2load print their summary on it; SIGKILL if that is ignored.
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGINT");
      setTimeout(() => child.exitCode === null && child.kill("SIGKILL"), 2000).unref();
    }, timeoutMs);
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, timedOut });
    });
  });
}

export interface ServerProcess {
  readonly child: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

const running = new Set<ServerProcess>();

/** Spawns a server in its own process group so stop() reaches its helpers too. */
export function startServer(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): ServerProcess {
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let log = "";
  const keep = (c: Buffer) => {
    log += c.toString();
    // Servers can be chatty under load; keep the tail, which holds the errors.
    if (log.length > 200_000) log = log.slice(-100_000);
  };
  child.stdout!.on("data", keep);
  child.stderr!.on("data", keep);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, signal);
    } catch {
      // Already gone.
    }
  };
  const handle: ServerProcess = {
    child,
    output: () => log,
    async stop() {
      running.delete(handle);
      if (child.exitCode !== null || child.signalCode !== null) return;
      signalGroup("SIGTERM");
      const timer = setTimeout(() => signalGroup("SIGKILL"), 5000);
      await exited;
      clearTimeout(timer);
      // Helpers of the group may outlive the leader briefly.
      signalGroup("SIGKILL");
    },
  };
  running.add(handle);
  return handle;
}

/** Last-resort cleanup on Ctrl-C or a crash: stop every server still running. */
export async function stopAllServers(): Promise<void> {
  await Promise.all([...running].map((s) => s.stop()));
}

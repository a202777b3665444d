// Local Redis for `npm start` and tests: check whether something answers PING
// at an address, and start a throwaway `redis-server` child (no persistence,
// loopback only) when nothing does.
import { spawn, type ChildProcess } from "node:child_process";
import { connect } from "node:net";

/** True when a Redis server answers PING at host:port within `timeoutMs`. */
export function redisAnswers(host: string, port: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    let reply = "";
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.on("data", (chunk: Buffer) => {
      reply += chunk.toString("latin1");
      // +PONG normally; -NOAUTH still means "a Redis is here" (just not ours to use).
      if (reply.includes("\r\n")) done(reply.startsWith("+PONG") || reply.startsWith("-NOAUTH"));
    });
    socket.once("error", () => done(false));
    socket.once("close", () => done(false));
  });
}

/** host and port out of a redis:// URL (defaults 127.0.0.1:6379). */
export function redisAddress(url: string): { host: string; port: number } {
  const parsed = new URL(url);
  if (parsed.protocol !== "redis:") throw new Error(`REDIS_URL must be a redis:// URL, got "${url}"`);
  return { host: parsed.hostname.replace(/^\[|\]$/g, "") || "127.0.0.1", port: Number(parsed.port || 6379) };
}

export interface RedisChild {
  readonly port: number;
  readonly process: ChildProcess;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Starts `redis-server` on 127.0.0.1:`port` and resolves once it answers PING
 * (fails after `timeoutMs`, or at once if it exits, e.g. port taken or
 * redis-server missing). Output goes to `onOutput` when given.
 */
export async function startRedisServer(port: number, options: { timeoutMs?: number; onOutput?: (line: string) => void } = {}): Promise<RedisChild> {
  const child = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const collect = (chunk: Buffer) => {
    const text = chunk.toString();
    output = (output + text).slice(-4_000);
    for (const line of text.split("\n")) if (line.trim() !== "") options.onOutput?.(line);
  };
  child.stdout!.on("data", collect);
  child.stderr!.on("data", collect);
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once("exit", () => resolve());
  });
  let spawnError: Error | undefined;
  child.once("error", (error) => (spawnError = error));

  const stop = async (graceMs = 5_000) => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      await exited;
      clearTimeout(timer);
    }
  };

  const deadline = Date.now() + (options.timeoutMs ?? 10_000);
  while (Date.now() < deadline) {
    if (spawnError) throw new Error(`could not run redis-server (${spawnError.message}); install it (e.g. apt-get install redis-server)`);
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`redis-server on port ${port} exited early: ${output.trim().split("\n").slice(-3).join(" | ")}`);
    }
    if (await redisAnswers("127.0.0.1", port, 500)) return { port, process: child, stop };
    await new Promise((r) => setTimeout(r, 50));
  }
  await stop(1_000);
  throw new Error(`redis-server on port ${port} did not answer PING within ${options.timeoutMs ?? 10_000} ms`);
}

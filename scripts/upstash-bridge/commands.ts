// Runs Upstash REST requests (one command, a pipeline, a transaction) on the
// shared connection and shapes the answers the way @upstash/redis reads them:
// single command `{result}` (200) or `{error}` (400, the client throws it);
// pipeline and transaction an array of `{result}` / `{error}` entries (200).
// Connection failures are not Redis errors: they become BridgeError 503/504.
import { ErrorReply, TimeoutError } from "redis";
import type { RedisConnection } from "./connection.js";
import { encodeReply, type Encoding, type JsonReply } from "./encoding.js";

export type Entry = { result: JsonReply } | { error: string };

/** A failure with the HTTP status the bridge answers it with. */
export class BridgeError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

// One connection is shared by every request, so anything that changes its
// state (transactions, database, pub/sub, protocol) or blocks it for everyone
// (blocking pops, WAIT) is refused rather than run. /multi-exec is the
// supported way to get a transaction.
const REFUSED = new Set([
  "multi", "exec", "discard", "watch", "unwatch", "select", "swapdb", "auth", "hello", "reset", "quit",
  "client", "monitor", "subscribe", "psubscribe", "ssubscribe", "unsubscribe", "punsubscribe", "sunsubscribe",
  "blpop", "brpop", "brpoplpush", "blmove", "blmpop", "bzpopmin", "bzpopmax", "bzmpop", "wait", "waitaof",
  "shutdown", "sync", "psync", "replicaof", "slaveof",
]);

/** Validates one command from a JSON body: a non-empty array of strings, numbers or booleans. */
export function parseCommand(value: unknown, where: string): string[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw new BridgeError(400, `ERR ${where} must be a non-empty JSON array, e.g. ["SET","key","value"]`);
  }
  return value.map((arg, i) => {
    if (typeof arg === "string") return arg;
    if ((typeof arg === "number" && Number.isFinite(arg)) || typeof arg === "boolean") return String(arg);
    throw new BridgeError(400, `ERR ${where} argument ${i} must be a string, number or boolean`);
  });
}

function refusal(args: readonly string[]): string | null {
  const name = args[0]!.toLowerCase();
  const blockingRead = (name === "xread" || name === "xreadgroup") && args.some((a) => a.toLowerCase() === "block");
  if (!REFUSED.has(name) && !blockingRead) return null;
  return `ERR '${args[0]}' is not supported by the local Upstash bridge (it would change or block the shared connection)`;
}

/** Anything that is not a reply from Redis itself: offline, closed, timed out. */
function transportError(error: unknown): BridgeError {
  if (error instanceof TimeoutError) return new BridgeError(504, "redis did not answer in time");
  const message = error instanceof Error ? error.message : String(error);
  return new BridgeError(503, `redis unavailable: ${message}`);
}

export async function runSingle(redis: RedisConnection, args: string[], encoding: Encoding): Promise<Entry> {
  const refused = refusal(args);
  if (refused) throw new BridgeError(400, refused);
  try {
    return { result: encodeReply(await redis.send(args), encoding) };
  } catch (error) {
    if (error instanceof ErrorReply) throw new BridgeError(400, error.message);
    throw transportError(error);
  }
}

export async function runPipeline(redis: RedisConnection, commands: string[][], encoding: Encoding): Promise<Entry[]> {
  // All sends are issued in the same tick, so node-redis writes them back to
  // back in order on the one connection (a pipeline, not a transaction).
  const settled = await Promise.allSettled(
    commands.map((args) => {
      const refused = refusal(args);
      return refused ? Promise.reject(new ErrorReply(refused)) : redis.send(args);
    }),
  );
  // A lost connection mid-pipeline leaves its outcome unknown: fail the
  // whole request rather than report a partial answer as complete.
  const lost = settled.find((s) => s.status === "rejected" && !(s.reason instanceof ErrorReply));
  if (lost?.status === "rejected") throw transportError(lost.reason);
  return settled.map((s) =>
    s.status === "fulfilled" ? { result: encodeReply(s.value, encoding) } : { error: (s.reason as ErrorReply).message },
  );
}

export async function runTransaction(redis: RedisConnection, commands: string[][], encoding: Encoding): Promise<Entry[]> {
  for (const [i, args] of commands.entries()) {
    const refused = refusal(args);
    if (refused) throw new BridgeError(400, `${refused} (command ${i + 1} of the transaction; nothing was run)`);
  }
  // MULTI, the commands and EXEC go out as one chain in one tick, so no other
  // request's command can land inside the transaction.
  const chain = Symbol("multi-exec");
  const sends = [["MULTI"], ...commands, ["EXEC"]].map((args) => redis.send(args, chain));
  const settled = await Promise.allSettled(sends);
  const lost = settled.find((s) => s.status === "rejected" && !(s.reason instanceof ErrorReply));
  if (lost?.status === "rejected") throw transportError(lost.reason);
  const exec = settled[settled.length - 1]!;
  if (exec.status === "rejected") {
    // EXECABORT: a command was refused while queueing (wrong arity, unknown
    // command); Redis ran none of them. Name the first culprit.
    const index = settled.slice(1, -1).findIndex((s) => s.status === "rejected");
    const cause = settled[index + 1];
    const detail = index >= 0 && cause?.status === "rejected" ? ` Command ${index + 1}: ${(cause.reason as Error).message}` : "";
    throw new BridgeError(400, `${(exec.reason as Error).message}${detail}`);
  }
  const replies = exec.value;
  if (!Array.isArray(replies)) throw new BridgeError(409, "ERR transaction was aborted");
  return replies.map((reply: unknown) =>
    reply instanceof ErrorReply ? { error: reply.message } : { result: encodeReply(reply, encoding) },
  );
}

// One Redis round trip per request for the limiter: every command a request
// issues in one synchronous turn (both token-bucket scripts, the penalty
// check) goes out as one Upstash pipeline (one HTTP request).
//
// Why not @upstash/redis's enableAutoPipelining: it splits reads and writes
// into two pipelines (PTTL is a "read", EVALSHA a "write" -> two round trips)
// and it merges commands of concurrent requests into one fetch, which
// workerd forbids (a request may not wait on another request's I/O). Here a
// batch belongs to exactly one request.
import type { Redis } from "@upstash/redis/cloudflare";

type Pipeline = ReturnType<Redis["pipeline"]>;
type Reply = { result?: unknown; error?: string };

export class CommandBatch {
  private readonly queue: { add: (p: Pipeline) => void; resolve: (v: unknown) => void; reject: (e: unknown) => void }[] = [];

  constructor(private readonly redis: Pick<Redis, "pipeline">) {}

  /** Queues a command; all commands queued before the next microtask share one pipeline. */
  run<T>(add: (pipeline: Pipeline) => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ add, resolve: resolve as (v: unknown) => void, reject });
      if (this.queue.length === 1) queueMicrotask(() => void this.flush());
    });
  }

  private async flush(): Promise<void> {
    const commands = this.queue.splice(0);
    try {
      const pipeline = this.redis.pipeline();
      for (const command of commands) command.add(pipeline);
      const replies = (await pipeline.exec({ keepErrors: true })) as Reply[];
      commands.forEach((command, i) => {
        const reply = replies[i];
        // The Redis error text (e.g. "NOSCRIPT ...") stays in the message:
        // @upstash/ratelimit looks for NOSCRIPT to fall back to EVAL.
        if (reply === undefined || reply.error !== undefined) command.reject(new Error(reply?.error ?? "no reply from Redis"));
        else command.resolve(reply.result);
      });
    } catch (error) {
      for (const command of commands) command.reject(error);
    }
  }
}

/**
 * The Redis that @upstash/ratelimit sees. Its documented type is
 * Pick<Redis, "evalsha" | "get" | "set">; it also calls `eval` after a
 * NOSCRIPT. Calls made while `current()` returns a batch join it; later
 * calls (the NOSCRIPT fallback, refunds) get a batch of their own.
 */
export function scriptFacade(redis: Pick<Redis, "pipeline">, current: () => CommandBatch | null) {
  const batch = () => current() ?? new CommandBatch(redis);
  return {
    evalsha: (sha: string, keys: string[], args: unknown[]) => batch().run((p) => p.evalsha(sha, keys, args)),
    eval: (script: string, keys: string[], args: unknown[]) => batch().run((p) => p.eval(script, keys, args)),
    get: (key: string) => batch().run((p) => p.get(key)),
    set: (key: string, value: unknown) => batch().run((p) => p.set(key, value)),
  };
}

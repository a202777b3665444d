// Hosted Upstash accepts Lua shebang flags that redis-server does not
// (@upstash/ratelimit starts every script with `#!lua flags=allow-key-locking`,
// which Redis 7 rejects: "Unexpected flag in script shebang"). This wraps the
// connection so such scripts run on a real Redis: unknown flags are dropped
// before EVAL / SCRIPT LOAD, and because Redis then caches the script under
// the SHA1 of the rewritten text, EVALSHA with the client's SHA1 (of the text
// it sent) is mapped to the rewritten one. Without the mapping every
// EVALSHA would miss and the client would fall back to EVAL each time.
import { createHash } from "node:crypto";
import type { RedisConnection } from "./connection.js";

// The flags redis-server understands (Redis 7 "Script flags").
const REDIS_FLAGS = new Set(["no-writes", "allow-oom", "allow-stale", "no-cluster", "allow-cross-slot-keys"]);

const sha1 = (text: string) => createHash("sha1").update(text).digest("hex");

/** The script with flags Redis does not know removed, or null when nothing changes. */
export function stripUnknownFlags(script: string): string | null {
  const match = /^#!lua([^\n]*)/.exec(script);
  if (!match) return null;
  const header = match[1]!;
  const flags = /\bflags=(\S*)/.exec(header);
  if (!flags) return null;
  const all = flags[1]!.split(",").filter((f) => f !== "");
  const kept = all.filter((f) => REDIS_FLAGS.has(f));
  if (kept.length === all.length) return null;
  const newHeader = header.replace(flags[0], kept.length > 0 ? `flags=${kept.join(",")}` : "");
  return `#!lua${newHeader}${script.slice(match[0].length)}`;
}

export function withLuaFlagTranslation(redis: RedisConnection): RedisConnection {
  /** client's SHA1 (of what it sent) -> SHA1 Redis knows the script by */
  const aliases = new Map<string, string>();

  const rewrite = (script: string): string => {
    const stripped = stripUnknownFlags(script);
    if (stripped === null) return script;
    if (aliases.size > 10_000) aliases.clear(); // bound memory; a miss only costs an EVAL
    aliases.set(sha1(script), sha1(stripped));
    return stripped;
  };

  return {
    get ready() {
      return redis.ready;
    },
    close: () => redis.close(),
    async send(args, chainId) {
      const name = args[0]!.toLowerCase();
      const sub = args[1]?.toLowerCase();
      if ((name === "eval" || name === "eval_ro") && args.length > 1) {
        return redis.send([args[0]!, rewrite(args[1]!), ...args.slice(2)], chainId);
      }
      if ((name === "evalsha" || name === "evalsha_ro") && args.length > 1) {
        const sha = args[1]!.toLowerCase();
        return redis.send([args[0]!, aliases.get(sha) ?? args[1]!, ...args.slice(2)], chainId);
      }
      if (name === "script" && sub === "load" && args.length === 3) {
        const script = args[2]!;
        await redis.send([args[0]!, args[1]!, rewrite(script)], chainId);
        // Answer with the SHA1 of the text the client sent, as it expects.
        return Buffer.from(sha1(script));
      }
      if (name === "script" && sub === "exists") {
        return redis.send([...args.slice(0, 2), ...args.slice(2).map((s) => aliases.get(s.toLowerCase()) ?? s)], chainId);
      }
      return redis.send(args, chainId);
    },
  };
}

// The edge's one @upstash/redis client per isolate, built from the parsed
// RedisConfig. Locally the URL is our REST bridge; in production a hosted
// Upstash database. Imported from the `/cloudflare` entry, which is the
// fetch-only build meant for workerd.
import { Redis } from "@upstash/redis/cloudflare";
import type { RedisConfig } from "./config.js";

let cached: { key: string; redis: Redis } | undefined;

/** One client per isolate (and per URL/token, so a config change is honoured). */
export function redisClient(config: RedisConfig): Redis {
  const key = `${config.url}\n${config.token}`;
  if (cached?.key !== key) {
    cached = {
      key,
      redis: new Redis({
        url: config.url,
        token: config.token,
        enableTelemetry: false,
        // The client retries failed fetches 5 times with exponential backoff by
        // default, far beyond our budget; callers fall back instead.
        retry: { retries: 0 },
        // A fresh signal per HTTP request: a slow Redis is abandoned after
        // timeoutMs. (A function signal makes the client throw on abort rather
        // than return the abort reason as a result.)
        signal: () => AbortSignal.timeout(config.timeoutMs),
      }),
    };
  }
  return cached.redis;
}

export class RedisTimeoutError extends Error {
  constructor(readonly ms: number) {
    super(`redis did not answer within ${ms} ms`);
    this.name = "RedisTimeoutError";
  }
}

/**
 * Rejects with RedisTimeoutError if `promise` has not settled after `ms`, so
 * a caller (rate limit, cache) never waits past REDIS_TIMEOUT_MS, even for
 * multi-round-trip work such as @upstash/ratelimit's EVALSHA-then-EVAL.
 */
export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new RedisTimeoutError(ms)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => {
    if (timer !== undefined) clearTimeout(timer);
  });
}

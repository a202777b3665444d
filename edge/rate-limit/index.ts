// Builds the isolate's RateLimiter from the parsed config (off, with one
// warning, when no Redis is configured).
import type { EdgeConfig } from "../config.js";
import { redisClient } from "../redis/client.js";
import { createRateLimiter } from "./limiter.js";
import type { RateLimiter } from "./types.js";

export function createEdgeRateLimiter(config: Pick<EdgeConfig, "plans" | "rateLimit" | "redis">): RateLimiter {
  return createRateLimiter({
    plans: config.plans,
    config: config.rateLimit,
    redis: config.redis ? redisClient(config.redis) : null,
    timeoutMs: config.redis?.timeoutMs ?? 0,
  });
}

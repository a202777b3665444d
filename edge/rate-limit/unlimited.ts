// Placeholder until rate limiting lands: admits everything.
import type { RateLimiter } from "./types.js";

export function unlimited(): RateLimiter {
  return { async admit() {} };
}

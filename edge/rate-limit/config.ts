// Rate-limit settings beyond the plans themselves: what to do when Redis
// cannot answer, and the progressive penalty for callers that keep hitting
// their limit.
import { ConfigError, parseInteger } from "../config-parse.js";
import type { Env } from "../env.js";

export interface RateLimitConfig {
  /** Redis failed or was slower than REDIS_TIMEOUT_MS: admit (open) or refuse with 503 (closed). */
  readonly failureMode: "open" | "closed";
  /** First block after a denial, in seconds; 0 turns the penalty off. */
  readonly penaltyBaseS: number;
  /** Longest block, in seconds. */
  readonly penaltyMaxS: number;
  /** Strikes are forgotten after this many quiet seconds (counted from the end of the last block). */
  readonly penaltyDecayS: number;
}

export const RATE_LIMIT_DEFAULTS = { failureMode: "open", penaltyBaseS: 1, penaltyMaxS: 60, penaltyDecayS: 120 } as const;

export function parseRateLimitConfig(env: Env): RateLimitConfig {
  const mode = env.RATE_LIMIT_FAILURE_MODE?.trim() || RATE_LIMIT_DEFAULTS.failureMode;
  if (mode !== "open" && mode !== "closed") {
    throw new ConfigError(`RATE_LIMIT_FAILURE_MODE must be "open" or "closed", got "${env.RATE_LIMIT_FAILURE_MODE}"`);
  }
  const penaltyBaseS = parseInteger("RATE_LIMIT_PENALTY_BASE_S", env.RATE_LIMIT_PENALTY_BASE_S, RATE_LIMIT_DEFAULTS.penaltyBaseS, 0, 3600);
  const penaltyMaxS = parseInteger("RATE_LIMIT_PENALTY_MAX_S", env.RATE_LIMIT_PENALTY_MAX_S, RATE_LIMIT_DEFAULTS.penaltyMaxS, 0, 86_400);
  if (penaltyBaseS > 0 && penaltyMaxS < penaltyBaseS) {
    throw new ConfigError(`RATE_LIMIT_PENALTY_MAX_S (${penaltyMaxS}) must be at least RATE_LIMIT_PENALTY_BASE_S (${penaltyBaseS})`);
  }
  const penaltyDecayS = parseInteger("RATE_LIMIT_PENALTY_DECAY_S", env.RATE_LIMIT_PENALTY_DECAY_S, RATE_LIMIT_DEFAULTS.penaltyDecayS, 1, 86_400);
  return Object.freeze({ failureMode: mode, penaltyBaseS, penaltyMaxS, penaltyDecayS });
}

// Upstash Redis (REST) settings. Locally and in tests the URL points at our
// REST bridge in front of a real redis-server (scripts/upstash-bridge); in
// production at a hosted Upstash database. Unset: features that need Redis
// (API keys, rate limits, the L2 cache) are off, and the edge says so once.
import { ConfigError } from "../config-parse.js";
import type { Env } from "../env.js";

export interface RedisConfig {
  readonly url: string;
  readonly token: string;
  /** Budget for one Redis round trip before the caller's fallback applies. */
  readonly timeoutMs: number;
}

export function parseRedisConfig(env: Env): RedisConfig | null {
  const url = env.UPSTASH_REDIS_REST_URL?.trim() ?? "";
  const token = env.UPSTASH_REDIS_REST_TOKEN?.trim() ?? "";
  if (url === "" && token === "") return null;
  if (url === "" || token === "") {
    throw new ConfigError("UPSTASH_REDIS_REST_URL and UPSTASH_REDIS_REST_TOKEN must be set together");
  }
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:") throw new Error();
  } catch {
    throw new ConfigError(`UPSTASH_REDIS_REST_URL "${url}" is not an http(s) URL`);
  }
  const timeoutText = env.REDIS_TIMEOUT_MS?.trim() || "200";
  const timeoutMs = /^\d+$/.test(timeoutText) ? Number(timeoutText) : Number.NaN;
  if (!(timeoutMs >= 1 && timeoutMs <= 10_000)) {
    throw new ConfigError(`REDIS_TIMEOUT_MS must be an integer between 1 and 10000, got "${env.REDIS_TIMEOUT_MS}"`);
  }
  return { url: url.replace(/\/+$/, ""), token, timeoutMs };
}

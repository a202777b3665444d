// L2: Upstash Redis (global). Values are text, because the REST protocol
// carries JSON: `v1|<expiresAtMs>|<base64 protobuf>`. The leading "v1|" is
// never valid JSON, so the client's automatic JSON deserialization (on in
// the shared client) always hands the string back untouched.
//
// Redis is an accelerator here, never a dependency: every call is bounded by
// REDIS_TIMEOUT_MS, any failure reads as a miss (or a skipped write), and
// after a failure the tier rests for a short cool-down so an outage does not
// add a timeout to every request. The first call after the cool-down probes
// Redis again, which is how the cache recovers by itself.
import type { RedisConfig } from "../redis/config.js";
import { redisClient, withTimeout } from "../redis/client.js";
import { warnOnce, type CacheStore, type StoredEntry } from "./store.js";

/** What the store needs from a Redis client (the shared @upstash/redis client fits; tests pass fakes). */
export interface RedisLike {
  get(key: string): Promise<unknown>;
  set(key: string, value: string, options: { px: number }): Promise<unknown>;
}

export interface RedisStoreOptions {
  readonly timeoutMs: number;
  /** How long to skip Redis after a failure (default 1000 ms). */
  readonly coolDownMs?: number;
  readonly now?: () => number;
}

const PREFIX = "v1|";

export function redisStoreFromConfig(config: RedisConfig): CacheStore {
  return redisStore(redisClient(config) as unknown as RedisLike, { timeoutMs: config.timeoutMs });
}

export function redisStore(redis: RedisLike, options: RedisStoreOptions): CacheStore {
  const now = options.now ?? Date.now;
  const coolDownMs = options.coolDownMs ?? 1_000;
  let restUntil = 0;

  const failed = (what: string, error: unknown): void => {
    restUntil = now() + coolDownMs;
    warnOnce("l2", `L2 cache (Redis) ${what} failed; serving without it for ${coolDownMs} ms`, error);
  };

  return {
    tier: "l2",
    async get(key) {
      if (now() < restUntil) return null;
      let value: unknown;
      try {
        value = await withTimeout(redis.get(key), options.timeoutMs);
      } catch (error) {
        failed("read", error);
        return null;
      }
      return typeof value === "string" ? decodeValue(value, now()) : null;
    },
    async put(key, entry) {
      if (now() < restUntil) return;
      const px = entry.expiresAt - now();
      if (px < 1) return;
      try {
        await withTimeout(redis.set(key, encodeValue(entry), { px }), options.timeoutMs);
      } catch (error) {
        failed("write", error);
      }
    },
  };
}

export function encodeValue(entry: StoredEntry): string {
  return `${PREFIX}${entry.expiresAt}|${toBase64(entry.bytes)}`;
}

/** The entry, or null when the text is not ours or has expired. */
export function decodeValue(value: string, now: number): StoredEntry | null {
  if (!value.startsWith(PREFIX)) return null;
  const bar = value.indexOf("|", PREFIX.length);
  if (bar < 0) return null;
  const expiresAt = Number(value.slice(PREFIX.length, bar));
  if (!(expiresAt > now)) return null;
  const bytes = fromBase64(value.slice(bar + 1));
  return bytes === null ? null : { bytes, expiresAt };
}

// Base64 without Buffer (not in workerd without nodejs_compat): the native
// Uint8Array.toBase64/fromBase64 where the runtime has them, else btoa/atob
// over "binary strings" built in chunks (about 15 ms per MiB on Node 20).
const CHUNK = 0x8000;

type NativeBase64 = { toBase64?: () => string };
const nativeFrom = (Uint8Array as unknown as { fromBase64?: (text: string) => Uint8Array }).fromBase64;

export function toBase64(bytes: Uint8Array): string {
  const native = (bytes as NativeBase64).toBase64;
  if (typeof native === "function") return native.call(bytes);
  let binary = "";
  for (let i = 0; i < bytes.byteLength; i += CHUNK) {
    binary += String.fromCharCode.apply(null, bytes.subarray(i, i + CHUNK) as unknown as number[]);
  }
  return btoa(binary);
}

export function fromBase64(text: string): Uint8Array | null {
  try {
    if (typeof nativeFrom === "function") return nativeFrom(text);
    const binary = atob(text);
    const out = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
    return out;
  } catch {
    return null;
  }
}

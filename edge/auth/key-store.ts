// API key lookup at the edge, with an isolate-local cache so a busy key
// costs no Redis round trip on most requests.
//
// Revocation delay: a key's lookup (found or not found) is reused for
// API_KEY_CACHE_TTL_MS (default 30 s). A revoked key therefore keeps working
// for at most that long in each isolate that saw it recently; set the TTL to
// 0 to check Redis on every request. Not-found answers are cached too, so a
// repeated bad key costs no Redis read, and each client address may try only
// so many keys that turn out unknown (miss-limit.ts), so invented keys cannot
// turn into a flood of Redis reads either.
import { withTimeout } from "../redis/client.js";
import { hashApiKey, isApiKeyRecord, parseApiKey, recordKey, type ApiKeyRecord } from "./api-keys.js";
import type { MissLimiter } from "./miss-limit.js";

/** The one Redis call key lookup needs (an @upstash/redis client fits). */
export interface KeyReader {
  get<T>(key: string): Promise<T | null>;
}

export type LookupResult = { found: true; record: ApiKeyRecord } | { found: false };

export interface KeyStoreOptions {
  readonly redis: KeyReader;
  readonly ttlMs: number;
  readonly timeoutMs: number;
  readonly now?: () => number;
  /** Bound on cached entries; the oldest go first. */
  readonly maxEntries?: number;
  /** Bounds lookups that find nothing per client address; none: unbounded. */
  readonly misses?: MissLimiter;
}

export interface KeyStore {
  /**
   * Resolves the key's record, or not-found; rejects when Redis fails or is
   * too slow, or with `resource_exhausted` when `address` has tried too many
   * unknown keys (only keys that would need a Redis read are refused).
   */
  lookup(key: string, address?: string): Promise<LookupResult>;
}

export function createKeyStore(options: KeyStoreOptions): KeyStore {
  const now = options.now ?? Date.now;
  const maxEntries = options.maxEntries ?? 10_000;
  const cache = new Map<string, { result: LookupResult; expires: number }>();

  async function fetchRecord(key: string, hash: string): Promise<LookupResult> {
    const value = await withTimeout(options.redis.get<unknown>(recordKey(hash)), options.timeoutMs);
    // The id check guards against a record stored under the wrong hash.
    const result: LookupResult =
      isApiKeyRecord(value) && value.id === parseApiKey(key)?.id ? { found: true, record: value } : { found: false };
    if (options.ttlMs > 0) {
      if (cache.size >= maxEntries) cache.delete(cache.keys().next().value as string);
      cache.set(hash, { result, expires: now() + options.ttlMs });
    }
    return result;
  }

  return {
    async lookup(key, address = "unknown") {
      if (parseApiKey(key) === null) return { found: false };
      const hash = await hashApiKey(key);
      const cached = cache.get(hash);
      if (cached !== undefined) {
        if (cached.expires > now()) return cached.result;
        cache.delete(hash);
      }
      options.misses?.check(address);
      // No sharing of in-flight lookups between requests: workerd does not
      // let one request wait on a promise another request's I/O settles.
      const result = await fetchRecord(key, hash);
      if (!result.found) options.misses?.record(address);
      return result;
    },
  };
}

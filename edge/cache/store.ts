// The two tiers behind one small interface, so the cache logic is tested
// with in-memory fakes and the tiers can change without touching it.
// An entry is the binary protobuf ModelInferResponse (id cleared) plus its
// absolute expiry, so a backfill from L2 into L1 keeps the original lifetime
// instead of granting a fresh TTL.
import { log } from "../log.js";

export interface StoredEntry {
  readonly bytes: Uint8Array;
  /** Epoch milliseconds after which the entry must not be served. */
  readonly expiresAt: number;
}

export interface CacheStore {
  /** "l1" | "l2": reported in Server-Timing `cache;desc=...` and Cache-Status. */
  readonly tier: "l1" | "l2";
  /** The live entry, or null (absent, expired, unreadable, or the tier is down). Never throws. */
  get(key: string): Promise<StoredEntry | null>;
  /** Stores (best effort; never throws). */
  put(key: string, entry: StoredEntry): Promise<void>;
}

/** The slice of the Workers Cache API used here (declared locally: Node type-checks this file too). */
interface CacheLike {
  match(request: string): Promise<Response | undefined>;
  put(request: string, response: Response): Promise<void>;
}
interface CacheStorageLike {
  open(name: string): Promise<CacheLike>;
}

const EXPIRES_HEADER = "x-cache-expires-at";

/**
 * L1: the Workers Cache API of this Cloudflare location. Keys become
 * synthetic URLs under a reserved domain (RFC 6761 `.invalid`), so they can
 * never collide with cached pages of a real zone. null outside workerd
 * (Node unit tests), where there is no Cache API.
 *
 * Note: Cloudflare ignores Cache API writes on `*.workers.dev` hostnames; L1
 * needs the Worker on a custom domain (L2 still works either way).
 */
export function cacheApiStore(name = "inference", now: () => number = Date.now): CacheStore | null {
  const storage = (globalThis as { caches?: CacheStorageLike }).caches;
  if (storage === undefined || typeof storage.open !== "function") return null;
  let opened: Promise<CacheLike> | undefined;
  const cache = (): Promise<CacheLike> => (opened ??= storage.open(name));
  const url = (key: string): string => `https://cache.invalid/${encodeURIComponent(key)}`;

  return {
    tier: "l1",
    async get(key) {
      try {
        const response = await (await cache()).match(url(key));
        if (response === undefined) return null;
        const expiresAt = Number(response.headers.get(EXPIRES_HEADER));
        if (!(expiresAt > now())) {
          await response.body?.cancel();
          return null;
        }
        return { bytes: new Uint8Array(await response.arrayBuffer()), expiresAt };
      } catch (error) {
        warnOnce("l1", "L1 cache read failed; treating as a miss", error);
        return null;
      }
    },
    async put(key, entry) {
      const maxAge = Math.floor((entry.expiresAt - now()) / 1000);
      if (maxAge < 1) return;
      try {
        // Entries live in ordinary (non-shared) buffers; the cast only satisfies stricter BodyInit typings.
        const response = new Response(entry.bytes as Uint8Array<ArrayBuffer>, {
          headers: {
            "content-type": "application/x-protobuf",
            "cache-control": `max-age=${maxAge}`,
            [EXPIRES_HEADER]: String(entry.expiresAt),
          },
        });
        await (await cache()).put(url(key), response);
      } catch (error) {
        warnOnce("l1", "L1 cache write failed", error);
      }
    },
  };
}

const WARN_INTERVAL_MS = 10_000;
const lastWarned = new Map<string, number>();

/** Logs a tier failure at most once per 10 s per tier and isolate, so an outage does not flood logs. */
export function warnOnce(tier: string, msg: string, error: unknown): void {
  const now = Date.now();
  if (now - (lastWarned.get(tier) ?? -Infinity) < WARN_INTERVAL_MS) return;
  lastWarned.set(tier, now);
  log("warn", msg, { tier, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
}

// Builds the isolate's inference cache from the parsed config: L1 (Workers
// Cache API, when the runtime has one) and L2 (Redis, when configured).
import type { EdgeConfig } from "../config.js";
import { noCache } from "./bypass.js";
import { redisStoreFromConfig } from "./redis-store.js";
import { cacheApiStore, type CacheStore } from "./store.js";
import { createTieredCache } from "./tiered.js";
import type { InferenceCache } from "./types.js";

export type { InferenceCache } from "./types.js";

export function createInferenceCache(config: Pick<EdgeConfig, "cache" | "redis">): InferenceCache {
  if (!config.cache.enabled) return noCache();
  const stores: CacheStore[] = [];
  const l1 = cacheApiStore();
  if (l1 !== null) stores.push(l1);
  if (config.redis !== null) stores.push(redisStoreFromConfig(config.redis));
  return createTieredCache(config.cache, { stores });
}

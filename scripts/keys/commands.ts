// API key lifecycle against the same Redis the edge reads (hosted Upstash or
// the local REST bridge): create (the key is returned once and only its
// SHA-256 is stored), list, revoke. Used by scripts/keys.ts and by tests.
import type { Redis } from "@upstash/redis";
import {
  generateApiKey,
  hashApiKey,
  isApiKeyRecord,
  KEY_INDEX,
  recordKey,
  type ApiKeyRecord,
} from "../../edge/auth/api-keys.js";
import { parsePlans } from "../../edge/plans/plans.js";

export interface CreateOptions {
  readonly tenant: string;
  readonly plan: string;
  readonly name?: string;
  /** Plans the key's plan is checked against (default: PLANS from the environment, else the shipped ones). */
  readonly plansJson?: string;
}

const TENANT = /^[A-Za-z0-9_.:@-]{1,128}$/;

export async function createKey(redis: Redis, options: CreateOptions): Promise<{ key: string; record: ApiKeyRecord }> {
  if (!TENANT.test(options.tenant)) throw new Error(`--tenant "${options.tenant}" must be 1-128 letters, digits or _.:@-`);
  const plans = parsePlans(options.plansJson ?? process.env.PLANS);
  if (!plans.has(options.plan)) {
    throw new Error(`--plan "${options.plan}" is not a configured plan (known: ${[...plans.keys()].join(", ")}); set PLANS as the edge has it`);
  }
  const { id, key } = generateApiKey();
  const record: ApiKeyRecord = {
    id,
    tenant: options.tenant,
    plan: options.plan,
    name: options.name ?? "",
    created_at: new Date().toISOString(),
  };
  const hash = await hashApiKey(key);
  // Record and index entry together, so a key is never listed without working or the reverse.
  const tx = redis.multi();
  tx.set(recordKey(hash), JSON.stringify(record), { nx: true });
  tx.hset(KEY_INDEX, { [id]: hash });
  const [stored] = (await tx.exec()) as [unknown, unknown];
  if (stored !== "OK") throw new Error("key collision (astronomically unlikely); run the command again");
  return { key, record };
}

export async function listKeys(redis: Redis, options: { tenant?: string } = {}): Promise<ApiKeyRecord[]> {
  const index = (await redis.hgetall<Record<string, string>>(KEY_INDEX)) ?? {};
  const hashes = Object.values(index);
  if (hashes.length === 0) return [];
  const values = await redis.mget<unknown[]>(...hashes.map((hash) => recordKey(String(hash))));
  return values
    .filter(isApiKeyRecord)
    .filter((record) => options.tenant === undefined || record.tenant === options.tenant)
    .sort((a, b) => a.created_at.localeCompare(b.created_at));
}

/** Deletes the key's record; the edge stops accepting it within API_KEY_CACHE_TTL_MS. False when no such id. */
export async function revokeKey(redis: Redis, id: string): Promise<boolean> {
  const hash = await redis.hget<string>(KEY_INDEX, id);
  if (hash === null || hash === undefined) return false;
  const tx = redis.multi();
  tx.del(recordKey(String(hash)));
  tx.hdel(KEY_INDEX, id);
  await tx.exec();
  return true;
}

// API key format, hashing and storage layout, shared by the edge (lookup)
// and scripts/keys.ts (create, list, revoke) so both agree byte for byte.
//
//   key:    gw_<id>_<secret>   id: 16 hex chars (public, shows in logs and
//           principal ids), secret: 32 random bytes, base64url (43 chars).
//           The id is hex so the "_" separator stays unambiguous even though
//           base64url secrets may contain "_".
//   Redis:  apikey:<sha256 hex of the whole key>  -> JSON ApiKeyRecord
//           apikeys:index (hash)  field <id> -> <sha256 hex>  (list, revoke by id)
// Only the hash is stored: a leaked database does not leak usable keys, and
// a fast unsalted hash is enough because the secret has 256 bits of entropy.
import { sha256Hex } from "../crypto/sha256.js";

export const API_KEY_PREFIX = "gw_";
export const KEY_INDEX = "apikeys:index";

export interface ApiKeyRecord {
  readonly id: string;
  readonly tenant: string;
  readonly plan: string;
  readonly name: string;
  /** ISO 8601. */
  readonly created_at: string;
}

const KEY_FORMAT = /^gw_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;

/** The key's id when `key` is well formed, else null. */
export function parseApiKey(key: string): { id: string } | null {
  const match = KEY_FORMAT.exec(key);
  return match ? { id: match[1]! } : null;
}

/** Hex SHA-256 of the whole key: what Redis stores instead of the key. */
export const hashApiKey = (key: string): Promise<string> => sha256Hex(key);

export const recordKey = (hash: string): string => `apikey:${hash}`;

/** A fresh random key with its id. */
export function generateApiKey(): { id: string; key: string } {
  const idBytes = crypto.getRandomValues(new Uint8Array(8));
  const secret = crypto.getRandomValues(new Uint8Array(32));
  const id = [...idBytes].map((b) => b.toString(16).padStart(2, "0")).join("");
  return { id, key: `${API_KEY_PREFIX}${id}_${base64url(secret)}` };
}

function base64url(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** Validates what Redis returned (it may be from an older or foreign writer). */
export function isApiKeyRecord(value: unknown): value is ApiKeyRecord {
  if (typeof value !== "object" || value === null) return false;
  const r = value as Record<string, unknown>;
  return typeof r.id === "string" && typeof r.tenant === "string" && typeof r.plan === "string";
}

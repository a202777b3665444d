// A bound on what unknown API keys cost. Every well-formed key the isolate
// has not seen costs one Redis read, and a caller can invent endless keys
// (the not-found cache in key-store.ts only helps against repeats). So each
// client address may make API_KEY_MISSES_PER_MIN lookups that find nothing
// per minute; past that, its lookups of keys this isolate does not already
// hold are refused with 429 until the minute is over, without reading Redis.
// Keys the isolate holds (cached found or not found) keep answering.
//
// Per isolate and in memory (a shared counter would itself cost the Redis
// read this saves); IPv6 addresses count per /64, the block one subscriber
// usually holds. The table is bounded (MAX_ADDRESSES, oldest out first).
import { Code } from "@connectrpc/connect";
import { GatewayError } from "../errors.js";

const WINDOW_MS = 60_000;
const MAX_ADDRESSES = 10_000;

export interface MissLimiter {
  /** Throws `resource_exhausted` (429, Retry-After) when `address` has used up its misses this minute. */
  check(address: string): void;
  /** Counts one lookup from `address` that found nothing. */
  record(address: string): void;
}

export function createMissLimiter(perMinute: number, now: () => number = Date.now): MissLimiter {
  const windows = new Map<string, { start: number; misses: number }>();

  function current(address: string): { start: number; misses: number } | undefined {
    const w = windows.get(addressGroup(address));
    return w !== undefined && now() - w.start < WINDOW_MS ? w : undefined;
  }

  return {
    check(address) {
      if (perMinute <= 0) return;
      const w = current(address);
      if (w === undefined || w.misses < perMinute) return;
      const retry = Math.max(1, Math.ceil((w.start + WINDOW_MS - now()) / 1000));
      throw new GatewayError(
        Code.ResourceExhausted,
        `too many unknown API keys from this address (${perMinute} per minute, API_KEY_MISSES_PER_MIN): retry after ${retry} s with a valid key`,
        { headers: { "retry-after": String(retry) } },
      );
    },
    record(address) {
      if (perMinute <= 0) return;
      const group = addressGroup(address);
      const w = current(address);
      if (w !== undefined) {
        w.misses += 1;
        return;
      }
      windows.delete(group);
      windows.set(group, { start: now(), misses: 1 });
      if (windows.size > MAX_ADDRESSES) windows.delete(windows.keys().next().value as string);
    },
  };
}

/** The address itself for IPv4 (and anything unparsed); the /64 prefix for IPv6. */
export function addressGroup(address: string): string {
  if (!address.includes(":")) return address;
  const [head = "", tail] = address.toLowerCase().split("::");
  const left = head === "" ? [] : head.split(":");
  const right = tail === undefined || tail === "" ? [] : tail.split(":");
  const groups = tail === undefined ? left : [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill("0"), ...right];
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, "")).join(":")}::/64`;
}

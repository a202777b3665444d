// Progressive penalty: a principal that keeps running into its limit is
// blocked for base × 2^(strikes-1) seconds, capped at max. Strikes live in
// Redis so every edge instance counts the same strikes; the block itself is
// also cached in the isolate, so a blocked caller costs no Redis round trip.
//
// The arithmetic lives here (one place, unit-tested); the Lua script only
// picks the precomputed step for the strike count, and makes "count a
// strike and set the block" atomic, so concurrent denials on several
// instances cannot pile up strikes for one burst: while a block is set, a
// denial adds no strike.

/** Block lengths in ms for strikes 1, 2, ... up to the first one that reaches the cap. */
export function penaltySchedule(baseS: number, maxS: number): number[] {
  if (baseS <= 0) return [];
  const steps: number[] = [];
  for (let strike = 1; strike <= 64; strike++) {
    const ms = Math.min(maxS, baseS * 2 ** (strike - 1)) * 1000;
    steps.push(ms);
    if (ms >= maxS * 1000) break;
  }
  return steps;
}

/** Block for the n-th strike (1-based): the schedule's last step once n runs past it. */
export function penaltyMs(schedule: readonly number[], strikes: number): number {
  if (schedule.length === 0 || strikes < 1) return 0;
  return schedule[Math.min(strikes, schedule.length) - 1]!;
}

/**
 * KEYS[1] strike counter, KEYS[2] block marker.
 * ARGV[1] decay ms (strikes forgotten that long after the block ends), ARGV[2..] the schedule.
 * Returns {strikes, block ms left}.
 */
export const STRIKE_SCRIPT = `
local left = redis.call("PTTL", KEYS[2])
if left > 0 then
  return {tonumber(redis.call("GET", KEYS[1]) or "0"), left}
end
local strikes = redis.call("INCR", KEYS[1])
local step = math.min(strikes, #ARGV - 1)
local block = tonumber(ARGV[step + 1])
redis.call("PEXPIRE", KEYS[1], block + tonumber(ARGV[1]))
redis.call("SET", KEYS[2], strikes, "PX", block)
return {strikes, block}
`;

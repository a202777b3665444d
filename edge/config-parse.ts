// The pieces every config section (edge/config.ts and each concern's own
// config.ts) parses with, so bad values are refused the same way everywhere.

/** Thrown (and cached) when the bindings are invalid; the message names the variable. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

/** A non-negative integer variable within [min, max]; blank means `fallback`. */
export function parseInteger(name: string, value: string | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined || value.trim() === "") return fallback;
  const text = value.trim();
  const parsed = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(parsed) || parsed < min || parsed > max) {
    throw new ConfigError(`${name} must be an integer between ${min} and ${max}, got "${value}"`);
  }
  return parsed;
}

/** A boolean variable (true/false, 1/0, yes/no, on/off); blank means `fallback`. */
export function parseBool(name: string, value: string | undefined, fallback: boolean): boolean {
  const text = (value ?? "").trim().toLowerCase();
  if (text === "") return fallback;
  if (text === "true" || text === "1" || text === "yes" || text === "on") return true;
  if (text === "false" || text === "0" || text === "no" || text === "off") return false;
  throw new ConfigError(`${name} must be true or false, got "${value}"`);
}

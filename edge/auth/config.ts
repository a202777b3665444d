// Authentication settings, parsed once per isolate with the rest of the
// config. Every check that can be made at start is made here (plan names
// exist, algorithms have key material, the HS256 secret is long enough), so
// a misconfigured edge fails loudly instead of refusing tokens one by one.
import { ConfigError, parseInteger } from "../config-parse.js";
import type { Env } from "../env.js";
import { parsePlans, requirePlan } from "../plans/plans.js";

export type JwtAlgorithm = "HS256" | "RS256" | "ES256";
const ASYMMETRIC: readonly JwtAlgorithm[] = ["RS256", "ES256"];

export interface JwtConfig {
  readonly issuer: string;
  readonly audience: readonly string[];
  /** Public keys for RS256/ES256; null when only HS256 is configured. */
  readonly jwksUrl: string | null;
  /** The HS256 secret (UTF-8 bytes); null when only JWKS is configured. */
  readonly hs256Secret: Uint8Array | null;
  /** Accepted algorithms: HS256 only with the secret, RS256/ES256 only with the JWKS. */
  readonly algorithms: readonly JwtAlgorithm[];
  readonly tenantClaim: string;
  readonly planClaim: string;
  /** Plan for tokens without a plan claim; null = such tokens are refused. */
  readonly defaultPlan: string | null;
  readonly clockToleranceS: number;
}

export interface AuthConfig {
  /** Plan for callers without credentials, limited per client IP; null = anonymous access off. */
  readonly anonymousPlan: string | null;
  /** How long an API key lookup (found or not) is reused in the isolate; also the revocation delay. */
  readonly apiKeyCacheTtlMs: number;
  /** Lookups that find no key allowed per client address per minute, per isolate; 0 = no limit. */
  readonly apiKeyMissesPerMin: number;
  /** null = JWT authentication off. */
  readonly jwt: JwtConfig | null;
}

export const AUTH_DEFAULTS = {
  apiKeyCacheTtlMs: 30_000,
  apiKeyMissesPerMin: 30,
  tenantClaim: "tenant",
  planClaim: "plan",
  clockToleranceS: 30,
} as const;

export function parseAuthConfig(env: Env): AuthConfig {
  const plans = parsePlans(env.PLANS);
  const anonymous = env.AUTH_ANONYMOUS_PLAN?.trim() ?? "";
  if (anonymous !== "") requirePlan(plans, anonymous, "AUTH_ANONYMOUS_PLAN");
  const jwt = parseJwtConfig(env);
  if (jwt?.defaultPlan) requirePlan(plans, jwt.defaultPlan, "JWT_DEFAULT_PLAN");
  return Object.freeze({
    anonymousPlan: anonymous === "" ? null : anonymous,
    apiKeyCacheTtlMs: parseInteger("API_KEY_CACHE_TTL_MS", env.API_KEY_CACHE_TTL_MS, AUTH_DEFAULTS.apiKeyCacheTtlMs, 0, 3_600_000),
    apiKeyMissesPerMin: parseInteger("API_KEY_MISSES_PER_MIN", env.API_KEY_MISSES_PER_MIN, AUTH_DEFAULTS.apiKeyMissesPerMin, 0, 1_000_000),
    jwt,
  });
}

function parseJwtConfig(env: Env): JwtConfig | null {
  const jwksText = env.JWT_JWKS_URL?.trim() ?? "";
  const secretText = env.JWT_HS256_SECRET ?? "";
  if (jwksText === "" && secretText === "") {
    const stray = (["JWT_ISSUER", "JWT_AUDIENCE", "JWT_ALGORITHMS"] as const).find((name) => env[name]?.trim());
    if (stray) throw new ConfigError(`${stray} is set but neither JWT_JWKS_URL nor JWT_HS256_SECRET is: JWT needs key material`);
    return null;
  }
  let jwksUrl: string | null = null;
  if (jwksText !== "") {
    let url: URL;
    try {
      url = new URL(jwksText);
    } catch {
      throw new ConfigError(`JWT_JWKS_URL "${jwksText}" is not a valid URL`);
    }
    if (url.protocol !== "https:" && url.protocol !== "http:") throw new ConfigError("JWT_JWKS_URL must be an http(s) URL");
    jwksUrl = url.toString();
  }
  let hs256Secret: Uint8Array | null = null;
  if (secretText !== "") {
    hs256Secret = new TextEncoder().encode(secretText);
    // RFC 7518 §3.2: an HS256 key must be at least as long as the hash (32 bytes).
    if (hs256Secret.byteLength < 32) throw new ConfigError("JWT_HS256_SECRET must be at least 32 bytes long");
  }
  const issuer = env.JWT_ISSUER?.trim() ?? "";
  if (issuer === "") throw new ConfigError("JWT_ISSUER is required when JWT is configured (tokens from any issuer would be accepted)");
  const audience = (env.JWT_AUDIENCE ?? "").split(",").map((a) => a.trim()).filter((a) => a !== "");
  if (audience.length === 0) throw new ConfigError("JWT_AUDIENCE is required when JWT is configured (comma-separated accepted audiences)");

  const available: JwtAlgorithm[] = [...(hs256Secret ? (["HS256"] as const) : []), ...(jwksUrl ? ASYMMETRIC : [])];
  const algText = env.JWT_ALGORITHMS?.trim() ?? "";
  let algorithms: JwtAlgorithm[] = available;
  if (algText !== "") {
    algorithms = algText.split(",").map((a) => a.trim()).filter((a) => a !== "") as JwtAlgorithm[];
    for (const alg of algorithms) {
      if (alg !== "HS256" && alg !== "RS256" && alg !== "ES256") {
        throw new ConfigError(`JWT_ALGORITHMS entry "${alg}" is not supported (HS256, RS256, ES256)`);
      }
      if (!available.includes(alg)) {
        throw new ConfigError(
          `JWT_ALGORITHMS lists ${alg} but ${alg === "HS256" ? "JWT_HS256_SECRET" : "JWT_JWKS_URL"} is not set`,
        );
      }
    }
    if (algorithms.length === 0) throw new ConfigError("JWT_ALGORITHMS must list at least one algorithm");
  }
  const claim = (name: "JWT_TENANT_CLAIM" | "JWT_PLAN_CLAIM", fallback: string): string => {
    const value = env[name]?.trim() || fallback;
    if (!/^[A-Za-z0-9_:.\/-]{1,128}$/.test(value)) throw new ConfigError(`${name} "${value}" is not a valid claim name`);
    return value;
  };
  return Object.freeze({
    issuer,
    audience: Object.freeze(audience),
    jwksUrl,
    hs256Secret,
    algorithms: Object.freeze(algorithms),
    tenantClaim: claim("JWT_TENANT_CLAIM", AUTH_DEFAULTS.tenantClaim),
    planClaim: claim("JWT_PLAN_CLAIM", AUTH_DEFAULTS.planClaim),
    defaultPlan: env.JWT_DEFAULT_PLAN?.trim() || null,
    clockToleranceS: parseInteger("JWT_CLOCK_TOLERANCE_S", env.JWT_CLOCK_TOLERANCE_S, AUTH_DEFAULTS.clockToleranceS, 0, 600),
  });
}


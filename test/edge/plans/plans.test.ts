import { describe, expect, it } from "vitest";
import { parseAuthConfig } from "../../../edge/auth/config.js";
import { ConfigError } from "../../../edge/config-parse.js";
import { costQuota, DEFAULT_PLANS_JSON, parsePlans, planAllows } from "../../../edge/plans/plans.js";
import { parseRateLimitConfig } from "../../../edge/rate-limit/config.js";

describe("PLANS", () => {
  it("parses the shipped default (also used when PLANS is unset)", () => {
    const plans = parsePlans(undefined);
    expect([...plans.keys()]).toEqual(["development", "free", "pro"]);
    const free = plans.get("free")!;
    expect(free).toMatchObject({ requests: 60, cost: 600, windowS: 60 });
    expect(planAllows(free, "iris")).toBe(true);
    expect(planAllows(free, "mlp-wide")).toBe(false);
    expect(planAllows(plans.get("development")!, "anything")).toBe(true);
    expect(costQuota(plans.get("pro")!, "mlp-wide")).toBe(20000);
    expect(costQuota(plans.get("pro")!, "iris")).toBe(60000);
    expect(parsePlans(DEFAULT_PLANS_JSON)).toEqual(plans);
  });

  it.each([
    ["{", /PLANS is not valid JSON/],
    ["[]", /must be a JSON object/],
    ["{}", /must be a JSON object/],
    ['{"a b":{"requests":1,"cost":1,"window_s":1,"models":"*"}}', /plan name "a b"/],
    ['{"p":{"requests":0,"cost":1,"window_s":1,"models":"*"}}', /PLANS\.p\.requests must be a whole number/],
    ['{"p":{"requests":1,"cost":1.5,"window_s":1,"models":"*"}}', /PLANS\.p\.cost/],
    ['{"p":{"requests":1,"cost":1,"models":"*"}}', /PLANS\.p\.window_s/],
    ['{"p":{"requests":1,"cost":1,"window_s":1,"models":"iris"}}', /PLANS\.p\.models must be "\*" or a list/],
    ['{"p":{"requests":1,"cost":1,"window_s":1,"models":"*","burst":2}}', /unknown field "burst"/],
    ['{"p":{"requests":1,"cost":1,"window_s":1,"models":"*","per_model":{"m":{"cost":0}}}}', /PLANS\.p\.per_model\.m\.cost/],
  ])("refuses %s", (json, message) => {
    expect(() => parsePlans(json)).toThrow(ConfigError);
    expect(() => parsePlans(json)).toThrow(message);
  });
});

describe("auth and rate-limit config", () => {
  it("defaults: anonymous off, JWT off, 30 s key cache, 30 unknown keys per address per minute; fail open, penalty 1..60 s", () => {
    expect(parseAuthConfig({})).toEqual({ anonymousPlan: null, apiKeyCacheTtlMs: 30000, apiKeyMissesPerMin: 30, jwt: null });
    expect(parseAuthConfig({ API_KEY_MISSES_PER_MIN: "0" }).apiKeyMissesPerMin).toBe(0);
    expect(() => parseAuthConfig({ API_KEY_MISSES_PER_MIN: "-1" })).toThrow(/API_KEY_MISSES_PER_MIN/);
    expect(parseRateLimitConfig({})).toEqual({ failureMode: "open", penaltyBaseS: 1, penaltyMaxS: 60, penaltyDecayS: 120 });
  });

  it("derives JWT algorithms from the key material configured", () => {
    const secret = "s".repeat(32);
    expect(parseAuthConfig({ JWT_ISSUER: "i", JWT_AUDIENCE: "a", JWT_HS256_SECRET: secret }).jwt!.algorithms).toEqual(["HS256"]);
    expect(parseAuthConfig({ JWT_ISSUER: "i", JWT_AUDIENCE: "a, b", JWT_JWKS_URL: "https://x/jwks" }).jwt).toMatchObject({
      algorithms: ["RS256", "ES256"],
      audience: ["a", "b"],
      tenantClaim: "tenant",
      planClaim: "plan",
      clockToleranceS: 30,
    });
  });

  it.each([
    [{ AUTH_ANONYMOUS_PLAN: "gold" }, /AUTH_ANONYMOUS_PLAN names plan "gold"/],
    [{ API_KEY_CACHE_TTL_MS: "-1" }, /API_KEY_CACHE_TTL_MS/],
    [{ JWT_ISSUER: "i" }, /JWT_ISSUER is set but neither/],
    [{ JWT_HS256_SECRET: "short", JWT_ISSUER: "i", JWT_AUDIENCE: "a" }, /at least 32 bytes/],
    [{ JWT_HS256_SECRET: "s".repeat(32), JWT_AUDIENCE: "a" }, /JWT_ISSUER is required/],
    [{ JWT_HS256_SECRET: "s".repeat(32), JWT_ISSUER: "i" }, /JWT_AUDIENCE is required/],
    [{ JWT_HS256_SECRET: "s".repeat(32), JWT_ISSUER: "i", JWT_AUDIENCE: "a", JWT_ALGORITHMS: "RS256" }, /JWT_JWKS_URL is not set/],
    [{ JWT_JWKS_URL: "https://x", JWT_ISSUER: "i", JWT_AUDIENCE: "a", JWT_ALGORITHMS: "none" }, /"none" is not supported/],
    [{ JWT_JWKS_URL: "ftp://x", JWT_ISSUER: "i", JWT_AUDIENCE: "a" }, /http\(s\)/],
    [{ JWT_HS256_SECRET: "s".repeat(32), JWT_ISSUER: "i", JWT_AUDIENCE: "a", JWT_DEFAULT_PLAN: "gold" }, /JWT_DEFAULT_PLAN/],
  ])("auth config refuses %o", (env, message) => {
    expect(() => parseAuthConfig(env)).toThrow(message);
  });

  it.each([
    [{ RATE_LIMIT_FAILURE_MODE: "maybe" }, /RATE_LIMIT_FAILURE_MODE/],
    [{ RATE_LIMIT_PENALTY_BASE_S: "x" }, /RATE_LIMIT_PENALTY_BASE_S/],
    [{ RATE_LIMIT_PENALTY_BASE_S: "10", RATE_LIMIT_PENALTY_MAX_S: "5" }, /at least RATE_LIMIT_PENALTY_BASE_S/],
  ])("rate-limit config refuses %o", (env, message) => {
    expect(() => parseRateLimitConfig(env)).toThrow(message);
  });
});

import { describe, expect, it, vi } from "vitest";
import { ConfigError, getConfig, parseConfig } from "../../edge/config.js";

const base = { WORKER_URLS: "http://127.0.0.1:8001" };

describe("parseConfig", () => {
  it("applies documented defaults when only WORKER_URLS is set", () => {
    expect(parseConfig(base)).toEqual({
      workerUrls: ["http://127.0.0.1:8001"],
      workerToken: undefined,
      corsOrigins: [],
      maxBodyBytes: 8 * 1024 * 1024,
      maxTensorElements: 4_194_304,
      maxBytesElements: 65_536,
      maxBytesLength: 4_194_304,
      requestTimeoutMs: 10_000,
      upstreamAttempts: 3,
      environment: "production",
      redis: null,
      cache: { enabled: true, defaultTtlS: 300, maxEntryBytes: 1048576 },
      plans: expect.any(Map),
      auth: { anonymousPlan: null, apiKeyCacheTtlMs: 30_000, apiKeyMissesPerMin: 30, jwt: null },
      rateLimit: { failureMode: "open", penaltyBaseS: 1, penaltyMaxS: 60, penaltyDecayS: 120 },
      graphql: expect.any(Object),
      catalogue: expect.any(Object),
    });
  });

  it("splits comma lists, trims blanks and drops trailing slashes from worker URLs", () => {
    const config = parseConfig({ ...base, WORKER_URLS: " http://a:1/ , https://b.example/base/ ,", CORS_ORIGINS: "https://x.dev, http://localhost:8787" });
    expect(config.workerUrls).toEqual(["http://a:1", "https://b.example/base"]);
    expect(config.corsOrigins).toEqual(["https://x.dev", "http://localhost:8787"]);
  });

  it("accepts '*' as CORS_ORIGINS and a token, numbers and environment", () => {
    const config = parseConfig({ ...base, CORS_ORIGINS: "*", WORKER_TOKEN: "t0k", MAX_BODY_BYTES: "1024", MAX_TENSOR_ELEMENTS: "10", MAX_BYTES_ELEMENTS: "7", MAX_BYTES_LENGTH: "9", REQUEST_TIMEOUT_MS: "250", UPSTREAM_ATTEMPTS: "1", ENVIRONMENT: "development" });
    expect(config).toMatchObject({ corsOrigins: "*", workerToken: "t0k", maxBodyBytes: 1024, maxTensorElements: 10, maxBytesElements: 7, maxBytesLength: 9, requestTimeoutMs: 250, upstreamAttempts: 1, environment: "development" });
  });

  it.each([
    [{}, /WORKER_URLS is required/],
    [{ WORKER_URLS: " , " }, /WORKER_URLS is required/],
    [{ WORKER_URLS: "not a url" }, /WORKER_URLS entry "not a url" is not a valid URL/],
    [{ WORKER_URLS: "ftp://x" }, /must use http or https/],
    [{ WORKER_URLS: "http://a,http://a" }, /same URL twice/],
    [{ ...base, MAX_BODY_BYTES: "12kb" }, /MAX_BODY_BYTES must be an integer/],
    [{ ...base, MAX_BYTES_ELEMENTS: "0" }, /MAX_BYTES_ELEMENTS must be an integer between 1/],
    [{ ...base, MAX_BYTES_LENGTH: "4MiB" }, /MAX_BYTES_LENGTH must be an integer/],
    [{ ...base, UPSTREAM_ATTEMPTS: "0" }, /UPSTREAM_ATTEMPTS must be an integer between 1/],
    [{ ...base, REQUEST_TIMEOUT_MS: "-5" }, /REQUEST_TIMEOUT_MS/],
    [{ ...base, ENVIRONMENT: "staging" }, /ENVIRONMENT must be/],
    [{ ...base, CORS_ORIGINS: "*,https://x.dev" }, /either "\*" or a list/],
    [{ ...base, CORS_ORIGINS: "https://x.dev/app" }, /bare origin/],
  ])("rejects invalid bindings %j with a message naming the variable", (env, message) => {
    expect(() => parseConfig(env)).toThrowError(ConfigError);
    expect(() => parseConfig(env)).toThrowError(message);
  });
});

describe("getConfig", () => {
  it("parses once per env object and returns the same frozen config", () => {
    const env = { ...base };
    const first = getConfig(env);
    expect(getConfig(env)).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    expect(getConfig({ ...base })).not.toBe(first);
  });

  it("logs a bad config once and keeps throwing the same ConfigError", () => {
    const spy = vi.spyOn(console, "error").mockImplementation(() => {});
    const env = { WORKER_URLS: "" };
    let first: unknown;
    try { getConfig(env); } catch (e) { first = e; }
    expect(() => getConfig(env)).toThrow(first as Error);
    expect(spy).toHaveBeenCalledTimes(1);
    spy.mockRestore();
  });
});

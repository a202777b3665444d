import { describe, expect, it } from "vitest";
import { parseCacheConfig } from "../../../edge/cache/config.js";
import { ConfigError } from "../../../edge/config-parse.js";
import { parseConfig } from "../../../edge/config.js";

describe("cache config", () => {
  it("has defaults: on, 300 s, 1 MiB", () => {
    expect(parseCacheConfig({})).toEqual({ enabled: true, defaultTtlS: 300, maxEntryBytes: 1048576 });
    expect(parseConfig({ WORKER_URLS: "http://127.0.0.1:1" }).cache.enabled).toBe(true);
  });

  it("parses values", () => {
    expect(parseCacheConfig({ CACHE_ENABLED: "false", CACHE_DEFAULT_TTL_S: "10", CACHE_MAX_ENTRY_BYTES: "2048" })).toEqual({
      enabled: false,
      defaultTtlS: 10,
      maxEntryBytes: 2048,
    });
    expect(parseCacheConfig({ CACHE_ENABLED: " TRUE " }).enabled).toBe(true);
  });

  it("rejects bad values naming the variable", () => {
    expect(() => parseCacheConfig({ CACHE_ENABLED: "maybe" })).toThrow(ConfigError);
    expect(() => parseCacheConfig({ CACHE_ENABLED: "maybe" })).toThrow(/CACHE_ENABLED/);
    expect(() => parseCacheConfig({ CACHE_DEFAULT_TTL_S: "0" })).toThrow(/CACHE_DEFAULT_TTL_S/);
    expect(() => parseCacheConfig({ CACHE_DEFAULT_TTL_S: "1.5" })).toThrow(/CACHE_DEFAULT_TTL_S/);
    expect(() => parseCacheConfig({ CACHE_MAX_ENTRY_BYTES: "-1" })).toThrow(/CACHE_MAX_ENTRY_BYTES/);
  });
});

import { describe, expect, it } from "vitest";
import { ConfigError, parseConfig } from "../../gpu-worker/config.js";

describe("parseConfig", () => {
  it("uses the documented defaults for an empty environment", () => {
    const config = parseConfig({});
    expect(config).toMatchObject({
      host: "127.0.0.1",
      port: 8001,
      modelRepository: "./models",
      executionProviders: ["cuda", "webgpu", "cpu"],
      token: undefined,
      maxConcurrentStreams: 256,
      maxHealthWatches: 64,
      maxMessageBytes: 64 * 1024 * 1024,
      maxBytesElements: 65_536,
      maxBytesLength: 4 * 1024 * 1024,
      drainTimeoutMs: 30_000,
      batching: true,
      sessionThreads: true,
      logLevel: "info",
    });
  });

  it("reads every variable into typed fields", () => {
    const config = parseConfig({
      WORKER_HOST: "0.0.0.0",
      WORKER_PORT: "9000",
      MODEL_REPOSITORY: "/srv/models",
      EXECUTION_PROVIDERS: "webgpu, CPU",
      WORKER_TOKEN: "s3cret-token",
      MAX_CONCURRENT_STREAMS: "64",
      MAX_HEALTH_WATCHES: "8",
      HTTP2_IDLE_TIMEOUT_MS: "5000",
      HEADERS_TIMEOUT_MS: "2000",
      REQUEST_TIMEOUT_MS: "1500",
      MAX_MESSAGE_BYTES: "1048576",
      MAX_BYTES_ELEMENTS: "1000",
      MAX_BYTES_LENGTH: "2000",
      DRAIN_TIMEOUT_MS: "0",
      BATCHING: "off",
      SESSION_THREADS: "off",
      LOG_LEVEL: "debug",
    });
    expect(config).toEqual({
      host: "0.0.0.0",
      port: 9000,
      modelRepository: "/srv/models",
      executionProviders: ["webgpu", "cpu"],
      token: "s3cret-token",
      maxConcurrentStreams: 64,
      maxHealthWatches: 8,
      http2IdleTimeoutMs: 5000,
      headersTimeoutMs: 2000,
      requestTimeoutMs: 1500,
      maxMessageBytes: 1048576,
      maxBytesElements: 1000,
      maxBytesLength: 2000,
      drainTimeoutMs: 0,
      batching: false,
      sessionThreads: false,
      logLevel: "debug",
    });
  });

  it("reads SESSION_THREADS case-insensitively", () => {
    expect(parseConfig({ SESSION_THREADS: "ON" }).sessionThreads).toBe(true);
    expect(parseConfig({ SESSION_THREADS: " off " }).sessionThreads).toBe(false);
  });

  it("treats an empty WORKER_TOKEN as no token", () => {
    expect(parseConfig({ WORKER_TOKEN: "" }).token).toBeUndefined();
  });

  it("reports every bad value at once, naming the variable", () => {
    const attempt = () =>
      parseConfig({
        WORKER_PORT: "http",
        EXECUTION_PROVIDERS: "cuda,tpu",
        BATCHING: "maybe",
        SESSION_THREADS: "yes",
        MAX_CONCURRENT_STREAMS: "-1",
      });
    expect(attempt).toThrow(ConfigError);
    try {
      attempt();
    } catch (error) {
      const problems = (error as ConfigError).problems.join("\n");
      expect(problems).toMatch(/WORKER_PORT="http"/);
      expect(problems).toMatch(/EXECUTION_PROVIDERS="cuda,tpu"/);
      expect(problems).toMatch(/BATCHING="maybe"/);
      expect(problems).toMatch(/SESSION_THREADS="yes": expected one of on, off/);
      expect(problems).toMatch(/MAX_CONCURRENT_STREAMS="-1"/);
    }
  });

  it("rejects a provider listed twice and a port out of range", () => {
    expect(() => parseConfig({ EXECUTION_PROVIDERS: "cpu,cpu" })).toThrow(/twice/);
    expect(() => parseConfig({ WORKER_PORT: "70000" })).toThrow(/WORKER_PORT/);
  });
});

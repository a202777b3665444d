// Where a model's session runs: the worker's SESSION_THREADS by default, and
// a model's own `session_threads` over it (a tiny model, whose run is shorter
// than a hop to a thread, runs inline while the others get threads).
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WorkerMetrics } from "../../../gpu-worker/metrics/prometheus.js";
import { ModelRepository } from "../../../gpu-worker/model/repository.js";
import { FIXTURE_MODELS } from "../../support/paths.js";

let root: string;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "repo-"));
  for (const name of ["echo", "nobatch"]) cpSync(join(FIXTURE_MODELS, name), join(root, name), { recursive: true });
  const file = join(root, "nobatch/config.json");
  writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, "utf8")), session_threads: false }));
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

const load = (sessionThreads: boolean) =>
  ModelRepository.load(root, {
    executionProviders: ["cpu"],
    batching: true,
    sessionThreads,
    logLevel: "warn",
    metrics: new WorkerMetrics(),
    maxElements: 1 << 20,
  });

describe("session placement", () => {
  it("follows SESSION_THREADS unless the model's session_threads says otherwise", async () => {
    const threaded = await load(true);
    try {
      expect(threaded.resolve("echo", "").threaded).toBe(true);
      expect(threaded.resolve("nobatch", "").threaded).toBe(false);
    } finally {
      await threaded.close();
    }
    const inline = await load(false);
    try {
      expect(inline.resolve("echo", "").threaded).toBe(false);
    } finally {
      await inline.close();
    }
  });
});

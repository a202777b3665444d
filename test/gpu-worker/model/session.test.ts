// Session options from config.json: intra_op_threads caps onnxruntime's
// compute pool per session (counted as OS threads of this process, Linux).
//
// What onnxruntime does without the option depends on the machine (its pool
// follows physical cores: a 2-vCPU machine with one physical core starts no
// pool threads, which once failed CI), so the default is pinned as "the option
// is not passed", and thread counting is kept to explicit values, where
// onnxruntime starts exactly n - 1 pool threads on any machine (the calling
// thread is the n-th).
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import ort from "onnxruntime-node";
import { afterEach, describe, expect, it, vi } from "vitest";
import { parseModelConfig } from "../../../gpu-worker/model/config.js";
import { createSession } from "../../../gpu-worker/model/session.js";
import { MODELS } from "../../support/paths.js";

const dir = join(MODELS, "mlp-wide");
const base = JSON.parse(readFileSync(join(dir, "config.json"), "utf8")) as Record<string, unknown>;
const file = join(dir, "1", "model.onnx");
const threads = () => readdirSync("/proc/self/task").length;
const configWith = (n: number | undefined) =>
  parseModelConfig({ ...base, ...(n === undefined ? {} : { intra_op_threads: n }) }, "mlp-wide/config.json", "mlp-wide");

/** OS threads a new session adds, with `intra_op_threads` set to `n`. */
async function threadsAdded(n: number): Promise<number> {
  const before = threads();
  const { session } = await createSession("mlp-wide", file, configWith(n), ["cpu"]);
  const added = threads() - before;
  await session.release();
  return added;
}

/** The options createSession hands onnxruntime for `intra_op_threads` = `n`. */
async function optionsPassed(n: number | undefined): Promise<ort.InferenceSession.SessionOptions> {
  const create = vi.spyOn(ort.InferenceSession, "create");
  const { session } = await createSession("mlp-wide", file, configWith(n), ["cpu"]);
  await session.release();
  const options = create.mock.lastCall![1] as ort.InferenceSession.SessionOptions;
  create.mockRestore();
  return options;
}

describe("intra_op_threads", () => {
  afterEach(() => vi.restoreAllMocks());

  it("is passed to onnxruntime as intraOpNumThreads when set, and left to onnxruntime's default when not", async () => {
    expect((await optionsPassed(3)).intraOpNumThreads).toBe(3);
    expect(await optionsPassed(undefined)).not.toHaveProperty("intraOpNumThreads");
  });

  it.runIf(process.platform === "linux")("n starts exactly n - 1 pool threads per session (1 starts none)", async () => {
    await threadsAdded(1); // onnxruntime's process-wide threads start with the first session
    expect(await threadsAdded(1)).toBe(0);
    expect(await threadsAdded(2)).toBe(1);
    expect(await threadsAdded(3)).toBe(2);
  });
});

// Session options from config.json: intra_op_threads caps onnxruntime's
// compute pool per session (counted as OS threads of this process, Linux).
import { readdirSync, readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseModelConfig } from "../../../gpu-worker/model/config.js";
import { createSession } from "../../../gpu-worker/model/session.js";
import { MODELS } from "../../support/paths.js";

const dir = join(MODELS, "mlp-wide");
const base = JSON.parse(readFileSync(join(dir, "config.json"), "utf8")) as Record<string, unknown>;
const file = join(dir, "1", "model.onnx");
const threads = () => readdirSync("/proc/self/task").length;

/** OS threads a new session adds, with `intra_op_threads` set to `n` (undefined: not set). */
async function threadsAdded(n: number | undefined): Promise<number> {
  const config = parseModelConfig({ ...base, ...(n === undefined ? {} : { intra_op_threads: n }) }, "mlp-wide/config.json", "mlp-wide");
  const before = threads();
  const { session } = await createSession("mlp-wide", file, config, ["cpu"]);
  const added = threads() - before;
  await session.release();
  return added;
}

describe.runIf(process.platform === "linux")("intra_op_threads", () => {
  it("1 starts no pool threads of its own; the default starts one per extra core", async () => {
    await threadsAdded(1); // onnxruntime's process-wide threads start with the first session
    expect(await threadsAdded(1)).toBe(0);
    if (availableParallelism() > 1) expect(await threadsAdded(undefined)).toBeGreaterThan(0);
  });
});

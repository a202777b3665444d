// Runs a Worker under `workerd serve` (the runtime itself, no Miniflare or
// wrangler proxy in front), from a config generated for this run.
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "../../test/support/paths.js";
import { freePort, waitFor } from "../../test/support/ports.js";
import { startServer, type ServerProcess } from "../lib/proc.js";
import { scratchDir } from "../lib/tools.js";
import { workerdConfig, type WorkerdModule } from "./config.js";

export const WORKERD = join(ROOT, "node_modules/.bin/workerd");

export interface WorkerdHandle {
  readonly url: string;
  readonly server: ServerProcess;
  stop(): Promise<void>;
}

/** compatibility_flags = [...] from wrangler.toml, so workerd runs the bundle as deploy would. */
export function compatibilityFlags(): string[] {
  const toml = readFileSync(join(ROOT, "wrangler.toml"), "utf8");
  const list = /^compatibility_flags\s*=\s*\[([^\]]*)\]/m.exec(toml)?.[1] ?? "";
  return [...list.matchAll(/"([^"]+)"/g)].map((m) => m[1]!);
}

/** The modules of a wrangler --outdir bundle, entry first (source maps and notes skipped). */
export function bundleModules(dir: string, entry = "index.js"): { file: string; module: Omit<WorkerdModule, "embed"> }[] {
  const kindOf = (f: string): WorkerdModule["kind"] | undefined =>
    /\.m?js$/.test(f) ? "esModule" : f.endsWith(".wasm") ? "wasm" : f.endsWith(".txt") || f.endsWith(".html") ? "text" : f.endsWith(".bin") ? "data" : undefined;
  const files = readdirSync(dir).filter((f) => kindOf(f) !== undefined && f !== "README.md");
  files.sort((a, b) => (a === entry ? -1 : b === entry ? 1 : a.localeCompare(b)));
  return files.map((f) => ({ file: join(dir, f), module: { name: f, kind: kindOf(f)! } }));
}

export async function serveWorkerd(options: {
  /** Files to run: copied beside the config so the config embeds plain names. */
  modules: { file: string; module: Omit<WorkerdModule, "embed"> }[];
  compatibilityDate: string;
  compatibilityFlags?: string[];
  textBindings?: Record<string, string>;
  /** Module file of a Worker serving the main Worker's Cache API (see cache-service.ts); none by default. */
  cacheService?: string;
  /** Path that answers once the Worker is ready (any HTTP status counts as up). */
  readyPath?: string;
}): Promise<WorkerdHandle> {
  const dir = mkdtempSync(join(scratchDir(), "workerd-"));
  const port = await freePort();
  const modules = options.modules.map(({ file, module }) => {
    copyFileSync(file, join(dir, module.name));
    return { ...module, embed: module.name };
  });
  let cacheService: { name: string; embed: string } | undefined;
  if (options.cacheService !== undefined) {
    cacheService = { name: "cache-service.js", embed: "cache-service.js" };
    copyFileSync(options.cacheService, join(dir, cacheService.embed));
  }
  const configPath = join(dir, "config.capnp");
  writeFileSync(
    configPath,
    workerdConfig({
      port,
      modules,
      compatibilityDate: options.compatibilityDate,
      compatibilityFlags: options.compatibilityFlags ?? [],
      textBindings: options.textBindings ?? {},
      ...(cacheService ? { cacheService } : {}),
    }),
  );
  if (!existsSync(WORKERD)) throw new Error(`${WORKERD} not found`);
  const server = startServer(WORKERD, ["serve", configPath], { cwd: dir });
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitFor(`workerd on ${url}`, async () => {
      if (server.child.exitCode !== null) throw new Error(`workerd exited ${server.child.exitCode}: ${server.output()}`);
      await fetch(`${url}${options.readyPath ?? "/"}`);
      return true;
    }, 30_000);
  } catch (error) {
    await server.stop();
    throw new Error(`${(error as Error).message}\n--- workerd output ---\n${server.output().slice(-3000)}`);
  }
  return { url, server, stop: () => server.stop() };
}

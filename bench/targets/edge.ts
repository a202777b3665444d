// Edge rows. The edge bundle (exactly what `wrangler deploy` uploads) runs
// under `workerd serve` with WORKER_URLS pointing at the bench's worker, and
// is driven over HTTP/1.1 by a native load generator. The same edge through
// `wrangler dev` and through Miniflare (test/support/edge-runtime.ts) is
// measured for reference: both put a Node proxy in front of workerd.
import { ModelInferResponseSchema, type ModelInferRequest } from "../../gen/inference/grpc_service_pb.js";
import { fromBinary } from "@bufbuild/protobuf";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { compatibilityDate, startEdge } from "../../test/support/edge-runtime.js";
import { irisRestBody } from "../../test/support/iris.js";
import { EDGE_BUNDLE, EDGE_BUNDLE_DIR, ROOT } from "../../test/support/paths.js";
import { freePort, waitFor } from "../../test/support/ports.js";
import type { BenchConfig } from "../lib/config.js";
import { http1Latency, http1Throughput } from "../lib/http1.js";
import { runTool, startServer } from "../lib/proc.js";
import { measureRow } from "../lib/row.js";
import type { PostTarget } from "../lib/tools.js";
import type { Row } from "../lib/types.js";
import { writeBareWorker, type FixedAnswer } from "../workerd/bare-worker.js";
import { bundleModules, compatibilityFlags, serveWorkerd, type WorkerdHandle } from "../workerd/serve.js";
import { connectTarget } from "./worker.js";

const WRANGLER = join(ROOT, "node_modules/wrangler/bin/wrangler.js");

/** Bundles the edge as `npm run build:edge` does, so the bench never runs a stale bundle. */
export function buildEdge(): Promise<void> {
  // Once per bench run (the iris and edge-cache scenarios both need it); a failure is retried.
  built ??= bundleEdge().catch((error: unknown) => {
    built = undefined;
    throw error;
  });
  return built;
}
let built: Promise<void> | undefined;

async function bundleEdge(): Promise<void> {
  if (!existsSync(join(ROOT, "edge/index.ts"))) throw new Error("edge/index.ts does not exist yet");
  const out = await runTool(process.execPath, [WRANGLER, "deploy", "--dry-run", "--outdir", ".build/edge"], 180_000, {
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", WRANGLER_LOG: "warn", CI: "1" },
    cwd: ROOT,
  });
  if (out.code !== 0 || !existsSync(EDGE_BUNDLE)) {
    throw new Error(`wrangler deploy --dry-run failed (${out.code}):\n${out.stdout.slice(-2000)}\n${out.stderr.slice(-2000)}`);
  }
}

// no-store: the bench measures the inference path, so the edge cache must
// neither answer nor be filled (identical requests would otherwise be hits).
const EDGE_HEADERS = { "cache-control": "no-store" };

export function edgeRestTarget(baseUrl: string, extraHeaders: Record<string, string> = {}): PostTarget {
  return {
    url: `${baseUrl}/v2/models/iris/infer`,
    body: new TextEncoder().encode(JSON.stringify(irisRestBody())),
    headers: { "content-type": "application/json", ...EDGE_HEADERS, ...extraHeaders },
  };
}

function edgeConnectTarget(baseUrl: string, request: ModelInferRequest, extraHeaders: Record<string, string>): PostTarget {
  const target = connectTarget(baseUrl, request);
  return { ...target, headers: { ...target.headers, ...EDGE_HEADERS, ...extraHeaders } };
}

/** One REST call, checked: the answer the bare Worker will replay byte for byte. */
export async function restAnswer(baseUrl: string, extraHeaders: Record<string, string> = {}): Promise<FixedAnswer> {
  const target = edgeRestTarget(baseUrl, extraHeaders);
  const response = await fetch(target.url, { method: "POST", headers: target.headers, body: target.body });
  const body = new Uint8Array(await response.arrayBuffer());
  if (response.status !== 200) throw new Error(`edge REST answered ${response.status}: ${new TextDecoder().decode(body).slice(0, 300)}`);
  const json = JSON.parse(new TextDecoder().decode(body)) as { outputs?: unknown[] };
  if (!Array.isArray(json.outputs) || json.outputs.length === 0) throw new Error(`edge REST answer has no outputs: ${new TextDecoder().decode(body).slice(0, 300)}`);
  return { status: response.status, contentType: response.headers.get("content-type") ?? "application/json", body, xCache: response.headers.get("x-cache") };
}

/** One Connect call, checked, over plain HTTP/1.1 as the load generator will send it. */
async function checkConnect(target: PostTarget): Promise<string | null> {
  const response = await fetch(target.url, { method: "POST", headers: target.headers, body: target.body });
  const body = new Uint8Array(await response.arrayBuffer());
  if (response.status !== 200) throw new Error(`edge Connect answered ${response.status}: ${new TextDecoder().decode(body).slice(0, 300)}`);
  const decoded = fromBinary(ModelInferResponseSchema, body);
  if (decoded.outputs.length === 0) throw new Error("edge Connect answer has no outputs");
  return response.headers.get("x-cache");
}

export function startEdgeWorkerd(workerUrl: string, extraVars: Record<string, string> = {}): Promise<WorkerdHandle> {
  return serveWorkerd({
    modules: bundleModules(EDGE_BUNDLE_DIR),
    compatibilityDate: compatibilityDate(),
    compatibilityFlags: compatibilityFlags(),
    // WORKER_URLS, and anonymous access (no Redis here, so no rate limits:
    // these rows measure the protocol path; the edge-cache scenario measures
    // auth and limits). Every other variable keeps the edge's own default.
    textBindings: { WORKER_URLS: workerUrl, AUTH_ANONYMOUS_PLAN: "development", ...extraVars },
    readyPath: "/v2/health/live",
  });
}

export function startBareWorkerd(answer: FixedAnswer): Promise<WorkerdHandle> {
  return serveWorkerd({
    modules: [{ file: writeBareWorker(answer), module: { name: "bare.js", kind: "esModule" } }],
    compatibilityDate: compatibilityDate(),
    compatibilityFlags: compatibilityFlags(),
  });
}

interface Plan {
  concurrency: number;
  seconds: number;
  requests: number;
}

/** Latency at c=1 and throughput at c=N for one HTTP/1.1 POST target. */
export async function http1Row(config: BenchConfig, row: Row, target: PostTarget, plan: Plan, progress: (l: string) => void): Promise<Row> {
  return measureRow(
    row,
    () => http1Latency(config, target, { requests: plan.requests, warmupRequests: Math.min(config.warmupRequests, plan.requests), maxSeconds: config.latencyMaxSeconds }),
    () => http1Throughput(config, target, { concurrency: plan.concurrency, seconds: plan.seconds, warmupSeconds: config.warmupSeconds }),
    progress,
  );
}

export async function edgeRows(
  config: BenchConfig,
  baseUrl: string,
  request: ModelInferRequest,
  rows: { rest?: Row; connect?: Row },
  plan: Plan,
  progress: (l: string) => void,
): Promise<Row[]> {
  const out: Row[] = [];
  const xCacheNote = (x: string | null | undefined) => (x ? [`x-cache: ${x}`] : []);
  if (rows.rest) {
    const target = edgeRestTarget(baseUrl, config.edgeHeaders);
    const answer = await restAnswer(baseUrl, config.edgeHeaders);
    rows.rest.notes = [...(rows.rest.notes ?? []), ...xCacheNote(answer.xCache)];
    out.push(await http1Row(config, rows.rest, target, plan, progress));
  }
  if (rows.connect) {
    const target = edgeConnectTarget(baseUrl, request, config.edgeHeaders);
    const xCache = await checkConnect(target);
    rows.connect.notes = [...(rows.connect.notes ?? []), ...xCacheNote(xCache)];
    out.push(await http1Row(config, rows.connect, target, plan, progress));
  }
  return out;
}

/** The edge under `wrangler dev` (builds edge/index.ts itself; local mode). */
export async function startWranglerDev(workerUrl: string, extraVars: Record<string, string> = {}): Promise<{ url: string; stop(): Promise<void> }> {
  const port = await freePort();
  const inspector = await freePort();
  const server = startServer(
    process.execPath,
    [WRANGLER, "dev", "--ip", "127.0.0.1", "--port", String(port), "--inspector-port", String(inspector), "--inspector-ip", "127.0.0.1",
      "--var", `WORKER_URLS:${workerUrl}`, "--var", "AUTH_ANONYMOUS_PLAN:development", ...Object.entries(extraVars).flatMap(([k, v]) => ["--var", `${k}:${v}`]), "--log-level", "warn", "--show-interactive-dev-session=false"],
    { cwd: ROOT, env: { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "1" } },
  );
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitFor(`wrangler dev on ${url}`, async () => {
      if (server.child.exitCode !== null) throw new Error(`wrangler dev exited ${server.child.exitCode}`);
      return (await fetch(`${url}/v2/health/live`)).status < 500;
    }, 90_000);
  } catch (error) {
    await server.stop();
    throw new Error(`${(error as Error).message}\n--- wrangler output ---\n${server.output().slice(-3000)}`);
  }
  return { url, stop: () => server.stop() };
}

/** The edge through Miniflare, via the tests' own helper. */
export async function startMiniflare(workerUrl: string, extraVars: Record<string, string> = {}): Promise<{ url: string; stop(): Promise<void> }> {
  const edge = await startEdge({ WORKER_URLS: workerUrl, ...extraVars });
  return { url: edge.url, stop: () => edge.dispose() };
}

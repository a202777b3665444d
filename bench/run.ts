// `npm run bench`: every scenario on this machine in one run, printed side by
// side with its floor and saved to bench/results/latest.{json,md}.
// Knobs: see bench/README.md (BENCH_SECONDS, BENCH_REQUESTS, BENCH_ONLY, ...).
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { irisReference, irisRequest, IRIS_ROWS } from "../test/support/iris.js";
import { ROOT } from "../test/support/paths.js";
import type { WorkerHandle } from "../test/support/worker-process.js";
import { loadConfig, selected, type BenchConfig } from "./lib/config.js";
import { machineFacts } from "./lib/machine.js";
import { stopAllServers } from "./lib/proc.js";
import { configRecord, goals, markdown, textTable, type BenchReport } from "./lib/report.js";
import { message, skippedRow } from "./lib/row.js";
import { H2LOAD, removeScratch, toolAvailable } from "./lib/tools.js";
import type { Row } from "./lib/types.js";
import type { FixedAnswer } from "./workerd/bare-worker.js";
import { batchingRow, mlpRow } from "./targets/batching.js";
import { buildEdge, edgeRows, http1Row, restAnswer, startBareWorkerd, startEdgeWorkerd, startMiniflare, startWranglerDev } from "./targets/edge.js";
import { edgeCache } from "./targets/edge-cache.js";
import { floorRow } from "./targets/floor.js";
import { graphqlScenario } from "./targets/graphql.js";
import { browserScenario } from "./targets/browser.js";
import { cancelScenario } from "./targets/cancel.js";
import { bareH2Row, connectAnswer } from "./targets/bare-h2.js";
import { connectTarget, startBenchWorker, workerConnectH2load, workerConnectNode, workerGrpcJs } from "./targets/worker.js";

const progress = (line: string) => console.error(`[bench] ${line}`);
const cleanups: (() => Promise<unknown>)[] = [];

async function cleanup(): Promise<void> {
  while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
  await stopAllServers();
  removeScratch();
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    progress(`${signal}: stopping servers`);
    void cleanup().finally(() => process.exit(130));
  });
}

/** Runs `fn` as a row; a throw becomes a skipped row with the reason. */
async function attempt(rows: Row[], base: Row, fn: () => Promise<Row | Row[]>): Promise<void> {
  try {
    const out = await fn();
    rows.push(...(Array.isArray(out) ? out : [out]));
  } catch (error) {
    console.error(`[bench] ${base.id} failed:`, error);
    rows.push(skippedRow(base, message(error)));
  }
}

/** The iris REST answer for the bare Worker when the edge itself is unavailable: OIP JSON from onnxruntime's output. */
async function synthesizedAnswer(): Promise<FixedAnswer> {
  const ref = await irisReference();
  const body = JSON.stringify({
    model_name: "iris",
    model_version: "1",
    outputs: [
      { name: "probabilities", datatype: "FP32", shape: [IRIS_ROWS.length, 3], data: ref.probabilities },
      { name: "label", datatype: "INT64", shape: [IRIS_ROWS.length, 1], data: ref.label },
    ],
  });
  return { status: 200, contentType: "application/json", body: new TextEncoder().encode(body) };
}

async function iris(config: BenchConfig, rows: Row[]): Promise<void> {
  const c = config.irisConcurrency;
  const plan = { concurrency: c, seconds: config.seconds, latency: true };
  const httpPlan = { concurrency: c, seconds: config.seconds, requests: config.requests };
  const refPlan = { concurrency: c, seconds: config.referenceSeconds, requests: config.referenceRequests };
  const row = (id: string, label: string, reference = false): Row => ({ scenario: "iris", id, label, ...(reference ? { reference } : {}) });
  const want = (id: string, ...groups: string[]) => selected(config, id, "iris", ...groups);
  const request = irisRequest();
  const values = new Float32Array(IRIS_ROWS.flat());

  // The floor runs first, alone on the machine.
  if (want("floor")) {
    progress("iris floor: session.run in-process");
    await attempt(rows, row("floor", "floor: session.run in-process"), () =>
      floorRow(config, row("floor", "floor: session.run in-process"), { model: "iris", inputName: "input", values, shape: [IRIS_ROWS.length, 4] }, plan, progress),
    );
  }

  const workerIds = ["worker-connect", "worker-connect-node", "worker-grpc"];
  const edgeIds = ["edge-rest", "edge-connect"];
  const refIds = ["wrangler-rest", "wrangler-connect", "miniflare-rest", "miniflare-connect"];
  const needWorker =
    [...workerIds, "bare-h2"].some((id) => want(id, "worker")) ||
    [...edgeIds, "bare"].some((id) => want(id, "edge")) ||
    refIds.some((id) => want(id, "reference", id.split("-")[0]!));
  if (!needWorker) return;

  let worker: WorkerHandle | undefined;
  try {
    progress(`iris: starting worker (BATCHING=${config.irisBatching ?? "worker default"})`);
    worker = await startBenchWorker(config.irisBatching);
    cleanups.push(() => worker!.stop());
  } catch (error) {
    console.error("[bench] worker failed to start:", error);
    for (const id of [...workerIds, ...edgeIds, ...refIds]) if (want(id, id.split("-")[0]!, ...(refIds.includes(id) ? ["reference"] : []))) rows.push(skippedRow(row(id, id), `worker did not start: ${message(error)}`));
  }
  const w = worker;
  const batchingNote = `worker BATCHING=${config.irisBatching ?? "default"}`;

  if (w) {
    const h2ok = toolAvailable(H2LOAD);
    if (want("worker-connect", "worker")) {
      const r = row("worker-connect", "worker Connect/h2c (h2load)");
      if (!h2ok) rows.push(skippedRow(r, `${H2LOAD} not installed`));
      else await attempt(rows, r, () => workerConnectH2load(config, { ...r, notes: [batchingNote] }, w, request, plan, progress));
    }
    if (want("bare-h2", "worker")) {
      const r = row("bare-h2", "bare node:http2, fixed answer (h2load)", true);
      if (!h2ok) rows.push(skippedRow(r, `${H2LOAD} not installed`));
      else
        await attempt(rows, r, async () => {
          const target = connectTarget(w.url, request);
          return bareH2Row(config, r, target, await connectAnswer(target), plan, progress);
        });
    }
    if (want("worker-connect-node", "worker")) {
      const r = row("worker-connect-node", "worker Connect/h2c (connect-node)");
      await attempt(rows, r, () => workerConnectNode(config, r, w, request, plan, progress));
    }
    if (want("worker-grpc", "worker")) {
      const r = row("worker-grpc", "worker gRPC/h2c (grpc-js)");
      await attempt(rows, r, () => workerGrpcJs(config, r, w, request, plan, progress));
    }
  }

  // Edge under `workerd serve`, and the bare-Worker ceiling.
  let answer: FixedAnswer | undefined;
  const wantEdge = edgeIds.some((id) => want(id, "edge"));
  if (w && (wantEdge || want("bare", "edge"))) {
    let built = false;
    try {
      progress("edge: bundling with wrangler deploy --dry-run");
      await buildEdge();
      built = true;
    } catch (error) {
      console.error("[bench] edge build failed:", error);
      for (const id of edgeIds) if (want(id, "edge")) rows.push(skippedRow(row(id, id), `edge bundle failed: ${message(error)}`));
    }
    if (built) {
      try {
        progress("edge: starting workerd serve");
        const edge = await startEdgeWorkerd(w.url, config.edgeVars);
        cleanups.push(() => edge.stop());
        try {
          answer = await restAnswer(edge.url, config.edgeHeaders).catch(() => undefined);
          const rest = want("edge-rest", "edge") ? row("edge-rest", "edge REST (workerd serve)") : undefined;
          const connect = want("edge-connect", "edge") ? row("edge-connect", "edge Connect binary (workerd serve)") : undefined;
          for (const r of [rest, connect]) {
            if (!r) continue;
            await attempt(rows, r, () => edgeRows(config, edge.url, request, r === rest ? { rest: r } : { connect: r }, httpPlan, progress));
          }
        } finally {
          await edge.stop();
        }
      } catch (error) {
        console.error("[bench] workerd (edge) failed:", error);
        for (const id of edgeIds) if (want(id, "edge")) rows.push(skippedRow(row(id, id), `workerd serve failed: ${message(error)}`));
      }
    }
  }
  if (want("bare", "edge")) {
    const r = row("bare", "bare Worker, fixed bytes (workerd serve)");
    await attempt(rows, r, async () => {
      const fixed = answer ?? (await synthesizedAnswer());
      if (!answer) r.notes = ["body synthesized from session.run output (edge unavailable)"];
      const bare = await startBareWorkerd(fixed);
      try {
        return await http1Row(config, r, { url: `${bare.url}/v2/models/iris/infer`, body: new TextEncoder().encode(JSON.stringify({})), headers: { "content-type": "application/json" } }, httpPlan, progress);
      } finally {
        await bare.stop();
      }
    });
  }

  // Reference only: the local dev proxies in front of workerd.
  if (w) {
    for (const [name, start] of [["wrangler", startWranglerDev], ["miniflare", startMiniflare]] as const) {
      const restId = `${name}-rest`;
      const connectId = `${name}-connect`;
      const wantRest = want(restId, "reference", name);
      const wantConnect = want(connectId, "reference", name);
      if (!wantRest && !wantConnect) continue;
      const label = name === "wrangler" ? "wrangler dev" : "Miniflare";
      try {
        progress(`${label}: starting`);
        const server = await start(w.url, config.edgeVars);
        cleanups.push(() => server.stop());
        try {
          if (wantRest) {
            const r = row(restId, `edge REST (${label})`, true);
            await attempt(rows, r, () => edgeRows(config, server.url, request, { rest: r }, refPlan, progress));
          }
          if (wantConnect) {
            const r = row(connectId, `edge Connect binary (${label})`, true);
            await attempt(rows, r, () => edgeRows(config, server.url, request, { connect: r }, refPlan, progress));
          }
        } finally {
          await server.stop();
        }
      } catch (error) {
        console.error(`[bench] ${label} failed:`, error);
        if (wantRest) rows.push(skippedRow(row(restId, `edge REST (${label})`, true), message(error)));
        if (wantConnect) rows.push(skippedRow(row(connectId, `edge Connect binary (${label})`, true), message(error)));
      }
    }
  }
}

/** mlp-wide's input width from its config.json (the source the worker's metadata reports). */
function configWidth(): number {
  const config = JSON.parse(readFileSync(join(ROOT, "models/mlp-wide/config.json"), "utf8")) as { input: { dims: number[] }[] };
  const width = config.input[0]?.dims[0];
  if (!width || width <= 0) throw new Error("models/mlp-wide/config.json has no input width");
  return width;
}

async function mlpWide(config: BenchConfig, rows: Row[]): Promise<void> {
  const want = (id: string) => selected(config, id, "mlp-wide", "batching");
  const row = (id: string, label: string): Row => ({ scenario: "mlp-wide", id, label });
  let width: number | undefined;
  for (const mode of ["on", "off"] as const) {
    const id = `batching-${mode}`;
    if (!want(id)) continue;
    if (!toolAvailable(H2LOAD)) {
      rows.push(skippedRow(row(id, `worker BATCHING=${mode}`), `${H2LOAD} not installed`));
      continue;
    }
    progress(`mlp-wide: worker BATCHING=${mode}`);
    const r = row(id, `worker BATCHING=${mode}, Connect/h2c (h2load)`);
    await attempt(rows, r, async () => {
      const out = await batchingRow(config, r, mode, progress);
      width ??= Number(/W=(\d+)/.exec(out.notes?.join(" ") ?? "")?.[1]) || undefined;
      return out;
    });
  }
  // Floor last so no worker is running beside it.
  if (want("mlp-floor")) {
    progress("mlp-wide floor: session.run in-process");
    const r = row("mlp-floor", "floor: session.run in-process");
    await attempt(rows, r, async () => {
      // Width as the worker's metadata reported it; the model's config otherwise.
      const w: number = width ?? configWidth();
      const out = await floorRow(config, r, { model: "mlp-wide", inputName: "input", values: mlpRow(w), shape: [1, w] }, { latency: false, concurrency: config.batchConcurrency, seconds: config.batchSeconds }, progress);
      out.notes!.push("single-row calls, no batching");
      return out;
    });
  }
}

async function main(): Promise<void> {
  const config = loadConfig();
  const started = new Date();
  const t0 = performance.now();
  const machine = machineFacts();
  const rows: Row[] = [];
  try {
    await iris(config, rows);
    await edgeCache(config, rows, { progress, attempt, onCleanup: (fn) => void cleanups.push(fn) });
    await graphqlScenario(config, rows, { progress, attempt, onCleanup: (fn) => void cleanups.push(fn) });
    await browserScenario(config, rows, { progress, attempt, onCleanup: (fn) => void cleanups.push(fn) });
    await cancelScenario(config, rows, { progress, attempt, onCleanup: (fn) => void cleanups.push(fn) });
    await mlpWide(config, rows);
  } finally {
    await cleanup();
  }
  // BENCH_* knobs, and the worker settings a bench run may be given (the bench's workers inherit the environment).
  const recorded = (k: string) => k.startsWith("BENCH_") || k === "SESSION_THREADS" || k === "BATCHING";
  const envs = Object.entries(process.env).filter(([k]) => recorded(k)).map(([k, v]) => `${k}=${v}`);
  const report: BenchReport = {
    startedAt: started.toISOString(),
    durationSeconds: (performance.now() - t0) / 1000,
    command: [...envs, "npm run bench"].join(" "),
    machine,
    config: configRecord(config),
    rows,
    goals: goals(rows),
  };
  const dir = join(ROOT, "bench/results");
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "latest.json"), JSON.stringify(report, null, 2) + "\n");
  writeFileSync(join(dir, "latest.md"), markdown(report));
  console.log(textTable(report));
  console.log(`\nsaved bench/results/latest.json and bench/results/latest.md`);
}

main().catch(async (error) => {
  console.error("[bench] fatal:", error);
  await cleanup();
  process.exit(1);
});

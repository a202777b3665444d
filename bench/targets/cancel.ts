// Scenario 6, `cancel`: how fast a browser's abort becomes a cancellation in
// the worker, and whether the worker still answers while a model runs, with
// onnxruntime sessions in worker threads (SESSION_THREADS=on) and inline on
// the worker's main thread (SESSION_THREADS=off).
//
//   Per mode: one worker process on the test fixtures (model `slow`, ~300 ms
//   per run), the edge bundle + assets under Miniflare pointing at it (as
//   test/e2e/cancel.test.ts runs it) and a Chromium page on the edge's origin
//   with the served /client.js. Chromium is launched once for both modes.
//
//   abort -> worker cancelled (`cancel-<mode>`): N sequential `slow` calls
//   from the page over gRPC-Web, each aborted by an AbortController 50 ms
//   after it starts. The client then sends ModelInferCancel (local workerd
//   never tells the edge that an HTTP/1.1 client left). The page records the
//   instant of the abort on its clock; the bench polls the worker's /metrics
//   every 5 ms until worker_inference_requests_total{model="slow"} goes up for
//   outcome="cancelled" (a sample) or "success" (the run completed despite
//   the abort: counted, no sample). The page's clock is mapped onto Node's by
//   a ping over CDP (offset and uncertainty in the notes).
//
//   health during a run (`cancel-health-<mode>`): GET /v2/health/ready on the
//   worker, sent 100 ms into a fresh `slow` call that Node makes straight to
//   the worker (Connect over h2c), one probe per call. The idle worker's
//   figure is in the notes for comparison.
//
// Every loop is bounded by count and by BENCH_CANCEL_MAX_SECONDS; every wait
// for the worker by OUTCOME_TIMEOUT_MS.
import type { Browser, Page } from "playwright-core";
import { CHROMIUM, launchBrowser } from "../../test/e2e/browser.js";
import { workerClient } from "../../test/support/clients.js";
import { startEdge, type EdgeHandle } from "../../test/support/edge-runtime.js";
import { FIXTURE_MODELS, ROOT } from "../../test/support/paths.js";
import { metricValue, startWorker, type WorkerHandle } from "../../test/support/worker-process.js";
import { selected, type BenchConfig } from "../lib/config.js";
import { runTool } from "../lib/proc.js";
import { message, skippedRow } from "../lib/row.js";
import { summarize } from "../lib/stats.js";
import type { Row } from "../lib/types.js";
import { buildEdge } from "./edge.js";
import type { ScenarioHooks } from "./edge-cache.js";

const MODES = [
  { mode: "threads", env: "on" },
  { mode: "inline", env: "off" },
] as const;
type Mode = (typeof MODES)[number]["mode"];

/** The page aborts each call this long after starting it: well inside the ~300 ms run. */
const ABORT_MS = 50;
/** Each health probe is sent this long into its `slow` call. */
const PROBE_AT_MS = 100;
const POLL_MS = 5;
/** Polling for the end of a run is untimed: coarser, so the scrapes take less CPU from the run (2 cores). */
const RUN_END_POLL_MS = 50;
/** Bound on every wait for the worker (an outcome, the end of a run, a page call). */
const OUTCOME_TIMEOUT_MS = 5_000;
const IDLE_PROBES = 20;
const CLOCK_PINGS = 20;

const SLOW_INPUT = [1, 2, 3, 4, 5, 6, 7, 8];
const slowRequest = () => ({
  modelName: "slow",
  inputs: [{ name: "x", datatype: "FP32", shape: [1n, 8n], contents: { fp32Contents: SLOW_INPUT } }],
});

interface Knobs {
  calls: number;
  probes: number;
  maxSeconds: number;
}

/** The scenario's own knobs (bench/lib/config.ts holds the shared ones). */
function knobs(): Knobs {
  const num = (name: string, fallback: number, min: number, max: number) => {
    const raw = process.env[name]?.trim();
    if (!raw) return fallback;
    const value = Number(raw);
    if (!Number.isFinite(value) || value < min || value > max) throw new Error(`${name}=${raw}: expected a number in [${min}, ${max}]`);
    return value;
  };
  return {
    calls: Math.round(num("BENCH_CANCEL_CALLS", 20, 1, 1_000)),
    probes: Math.round(num("BENCH_CANCEL_PROBES", 20, 1, 1_000)),
    maxSeconds: num("BENCH_CANCEL_MAX_SECONDS", 30, 1, 600),
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Node's wall-clock milliseconds, comparable with a page's `performance.timeOrigin + performance.now()`. */
const nodeClock = () => performance.timeOrigin + performance.now();

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing within ${Math.round(ms / 1000)} s`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

interface SlowCounts {
  cancelled: number;
  success: number;
  /** Finished session runs (compute histogram count): a cancelled call's run still finishes. */
  runs: number;
  /** Seconds those runs took in all (compute histogram sum). */
  runSeconds: number;
}

async function slowCounts(worker: WorkerHandle): Promise<SlowCounts> {
  const response = await fetch(`${worker.url}/metrics`, { signal: AbortSignal.timeout(OUTCOME_TIMEOUT_MS) });
  const text = await response.text();
  const outcome = (o: string) => metricValue(text, "worker_inference_requests_total", 'model="slow"', `outcome="${o}"`);
  return {
    cancelled: outcome("cancelled"),
    success: outcome("success"),
    runs: metricValue(text, "worker_inference_compute_seconds_count", 'model="slow"'),
    runSeconds: metricValue(text, "worker_inference_compute_seconds_sum", 'model="slow"'),
  };
}

/** Mean session run between two scrapes, ms (NaN when none finished). */
const meanRunMs = (first: SlowCounts, last: SlowCounts) =>
  last.runs > first.runs ? ((last.runSeconds - first.runSeconds) / (last.runs - first.runs)) * 1000 : NaN;

/** Polls the worker until `done` holds, every `everyMs`, for at most `ms`; resolves the counts seen and Node's clock when they arrived. */
async function pollUntil(worker: WorkerHandle, done: (c: SlowCounts) => boolean, ms: number, everyMs = POLL_MS): Promise<{ counts: SlowCounts; at: number } | undefined> {
  const deadline = performance.now() + ms;
  while (performance.now() < deadline) {
    const sent = performance.now();
    const counts = await slowCounts(worker);
    const at = nodeClock();
    if (done(counts)) return { counts, at };
    await sleep(Math.max(0, everyMs - (performance.now() - sent)));
  }
  return undefined;
}

/**
 * Offset of the page's clock from Node's (page minus Node), from the ping with
 * the shortest round trip over CDP; half that round trip bounds the error.
 */
async function clockOffset(page: Page): Promise<{ offsetMs: number; errorMs: number }> {
  let best = { offsetMs: 0, errorMs: Infinity };
  for (let i = 0; i < CLOCK_PINGS; i++) {
    const before = nodeClock();
    const pageNow = await page.evaluate(() => performance.timeOrigin + performance.now());
    const after = nodeClock();
    if ((after - before) / 2 < best.errorMs) best = { offsetMs: pageNow - (before + after) / 2, errorMs: (after - before) / 2 };
  }
  return best;
}

/** What the page hands back for one call (see startPageCall). */
interface PageCall {
  /** The page's clock (timeOrigin + now) right before controller.abort(); NaN when not aborted. */
  abortAt: number;
  code: string;
}

/**
 * Starts one `slow` call in the page through the served client and returns
 * at once, so Node can poll the worker meanwhile; `abortMs` undefined lets
 * it run to the end. The outcome is collected with finishPageCall.
 */
function startPageCall(page: Page, abortMs: number | undefined): Promise<void> {
  return page.evaluate(
    ({ abortMs, input }) => {
      const g = globalThis as any;
      const controller = new AbortController();
      const state = { abortAt: NaN, code: "pending" };
      if (abortMs !== undefined) {
        setTimeout(() => {
          state.abortAt = performance.timeOrigin + performance.now();
          controller.abort();
        }, abortMs);
      }
      const request = g.gw.inferRequest("slow", [{ name: "x", datatype: "FP32", shape: [1, 8], data: input }]);
      g.benchCall = g.benchClient.modelInfer(request, { signal: controller.signal }).then(
        () => ((state.code = "ok"), state),
        (error: unknown) => ((state.code = g.gw.describeError(error).code), state),
      );
    },
    { abortMs, input: SLOW_INPUT },
  );
}

function finishPageCall(page: Page): Promise<PageCall> {
  return withTimeout(page.evaluate(() => (globalThis as any).benchCall as Promise<PageCall>), OUTCOME_TIMEOUT_MS, "the page's call");
}

interface AbortResult {
  /** abort -> cancelled counter seen, ms on Node's clock. */
  samplesMs: number[];
  calls: number;
  cancelled: number;
  completed: number;
  /** Neither outcome within OUTCOME_TIMEOUT_MS. */
  unseen: number;
  /** The page's error codes other than `canceled`. */
  codes: Record<string, number>;
  capped: boolean;
  /** Mean session run over these calls: inline, a cancellation waits out the rest of it. */
  meanRunMs: number;
}

async function abortedCalls(page: Page, worker: WorkerHandle, offsetMs: number, knobs: Knobs): Promise<AbortResult> {
  const out: AbortResult = { samplesMs: [], calls: 0, cancelled: 0, completed: 0, unseen: 0, codes: {}, capped: false, meanRunMs: NaN };
  const first = await slowCounts(worker);
  const deadline = performance.now() + knobs.maxSeconds * 1000;
  while (out.calls < knobs.calls) {
    if (performance.now() >= deadline) {
      out.capped = true;
      break;
    }
    const before = await slowCounts(worker);
    await startPageCall(page, ABORT_MS);
    out.calls++;
    const seen = await pollUntil(worker, (c) => c.cancelled > before.cancelled || c.success > before.success, OUTCOME_TIMEOUT_MS);
    const call = await finishPageCall(page);
    if (call.code !== "canceled") out.codes[call.code] = (out.codes[call.code] ?? 0) + 1;
    if (!seen) out.unseen++;
    else if (seen.counts.cancelled > before.cancelled) {
      out.cancelled++;
      // The page's abort instant on Node's clock; the arrival of the first scrape showing it bounds the cancellation from above.
      if (Number.isFinite(call.abortAt)) out.samplesMs.push(seen.at - (call.abortAt - offsetMs));
    } else out.completed++;
    // The cancelled call's run goes on to its end (threads) or has just ended (inline): let it finish so every call starts on an idle session.
    await pollUntil(worker, (c) => c.runs > before.runs, OUTCOME_TIMEOUT_MS, RUN_END_POLL_MS);
  }
  out.meanRunMs = meanRunMs(first, await slowCounts(worker));
  return out;
}

interface HealthResult {
  samplesMs: number[];
  /** Probes whose `slow` call was still in flight when the probe was sent. */
  midRun: number;
  errors: number;
  capped: boolean;
}

async function healthProbe(worker: WorkerHandle): Promise<{ ms: number; ok: boolean }> {
  const t0 = performance.now();
  try {
    const response = await fetch(`${worker.url}/v2/health/ready`, { signal: AbortSignal.timeout(OUTCOME_TIMEOUT_MS) });
    await response.arrayBuffer();
    return { ms: performance.now() - t0, ok: response.ok };
  } catch {
    return { ms: performance.now() - t0, ok: false };
  }
}

/** `probes` health probes, each PROBE_AT_MS into its own `slow` call (or with no call when `during` is false). */
async function healthProbes(worker: WorkerHandle, probes: number, during: boolean, maxSeconds: number): Promise<HealthResult> {
  const out: HealthResult = { samplesMs: [], midRun: 0, errors: 0, capped: false };
  const client = workerClient(worker.url, "connect-h2");
  const deadline = performance.now() + maxSeconds * 1000;
  for (let i = 0; i < probes; i++) {
    if (performance.now() >= deadline) {
      out.capped = true;
      break;
    }
    let settled = false;
    const call = during
      ? client.modelInfer(slowRequest(), { signal: AbortSignal.timeout(OUTCOME_TIMEOUT_MS) }).then(
          () => (settled = true),
          () => (settled = true),
        )
      : undefined;
    if (call) await sleep(PROBE_AT_MS);
    if (call && !settled) out.midRun++;
    const probe = await healthProbe(worker);
    out.samplesMs.push(probe.ms);
    if (!probe.ok) out.errors++;
    await call;
  }
  return out;
}

const pct = (samplesMs: number[], q: "p50Us" | "p99Us") => {
  const v = summarize(samplesMs.map((ms) => ms * 1000))[q] / 1000;
  return Number.isFinite(v) ? `${v.toFixed(v < 10 ? 2 : 1)} ms` : "-";
};

export async function cancelScenario(config: BenchConfig, rows: Row[], hooks: ScenarioHooks): Promise<void> {
  const wantAbort = (m: Mode) => selected(config, `cancel-${m}`, "cancel");
  const wantHealth = (m: Mode) => selected(config, `cancel-health-${m}`, "cancel");
  const modes = MODES.filter(({ mode }) => wantAbort(mode) || wantHealth(mode));
  if (modes.length === 0) return;
  const { progress, attempt } = hooks;
  const abortRow = (m: (typeof MODES)[number]): Row => ({
    scenario: "cancel",
    id: `cancel-${m.mode}`,
    label: `abort -> worker cancelled, SESSION_THREADS=${m.env}`,
  });
  const healthRow = (m: (typeof MODES)[number]): Row => ({
    scenario: "cancel",
    id: `cancel-health-${m.mode}`,
    label: `worker health during a run, SESSION_THREADS=${m.env}`,
  });
  /** Rows of `which` modes not yet pushed become skipped rows with the reason. */
  const skipRest = (why: string, which: readonly (typeof MODES)[number][] = modes) => {
    const have = new Set(rows.filter((r) => r.scenario === "cancel").map((r) => r.id));
    for (const m of which) {
      if (wantAbort(m.mode) && !have.has(abortRow(m).id)) rows.push(skippedRow(abortRow(m), why));
      if (wantHealth(m.mode) && !have.has(healthRow(m).id)) rows.push(skippedRow(healthRow(m), why));
    }
  };

  let k: Knobs;
  try {
    k = knobs();
  } catch (error) {
    skipRest(message(error));
    return;
  }

  let worker: WorkerHandle | undefined;
  let edge: EdgeHandle | undefined;
  let browser: Browser | undefined;
  const stopServers = async () => {
    await edge?.dispose().catch(() => undefined);
    edge = undefined;
    await worker?.stop().catch(() => undefined);
    worker = undefined;
  };
  const stopAll = async () => {
    await browser?.close().catch(() => undefined);
    browser = undefined;
    await stopServers();
  };
  hooks.onCleanup(stopAll);
  const t0 = performance.now();
  try {
    const needPage = modes.some(({ mode }) => wantAbort(mode));
    if (needPage) {
      // The page needs /client.js from the playground's assets; both it and the edge bundle fresh.
      progress("cancel: building the playground and the edge bundle");
      const built = await runTool(process.execPath, ["--import", "tsx", "playground/build.ts"], 120_000, { cwd: ROOT });
      if (built.code !== 0) throw new Error(`playground build failed (${built.code}): ${built.stderr.slice(-500)}`);
      await buildEdge();
      browser = await launchBrowser();
    }

    for (const m of modes) {
      progress(`cancel: worker SESSION_THREADS=${m.env} on the fixture models${needPage && wantAbort(m.mode) ? ", edge (Miniflare, assets + Worker), Chromium page" : ""}`);
      try {
        worker = await startWorker({ repository: FIXTURE_MODELS, env: { SESSION_THREADS: m.env } });
        const w = worker;

        if (wantAbort(m.mode)) {
          const r = abortRow(m);
          await attempt(rows, r, async () => {
            edge = await startEdge({ WORKER_URLS: w.url, ...config.edgeVars }, { assets: true });
            const page = await browser!.newPage();
            try {
              await page.goto(`${edge.url}/`, { timeout: 20_000 });
              // A string, so nothing rewrites the page's own dynamic import.
              await page.evaluate(`import("/client.js").then((m) => { globalThis.gw = m; globalThis.benchClient = m.createGatewayClient({ baseUrl: ${JSON.stringify(edge.url)}, protocol: "grpc-web" }); })`);
              // One whole call first: edge catalogue, connections and the session warm, and the path proven.
              await startPageCall(page, undefined);
              const warm = await finishPageCall(page);
              if (warm.code !== "ok") throw new Error(`the page's warm-up call answered ${warm.code}`);
              const clock = await clockOffset(page);
              progress(`  ${r.id}: ${k.calls} gRPC-Web calls from the page, each aborted ${ABORT_MS} ms in`);
              const res = await abortedCalls(page, w, clock.offsetMs, k);
              const notes = [
                `${res.calls} calls aborted: ${res.cancelled} cancelled, ${res.completed} completed${res.unseen ? `, ${res.unseen} no outcome within ${OUTCOME_TIMEOUT_MS / 1000} s` : ""}`,
                `mean session run ${res.meanRunMs.toFixed(0)} ms`,
                `page clock - Node clock ${clock.offsetMs.toFixed(2)} ms ±${clock.errorMs.toFixed(2)} ms (CDP ping)`,
              ];
              const codes = Object.entries(res.codes);
              if (codes.length) notes.push(`page codes other than canceled: ${codes.map(([c, n]) => `${c} x${n}`).join(", ")}`);
              if (res.capped) notes.push(`time cap ${k.maxSeconds} s hit after ${res.calls} of ${k.calls} calls`);
              return {
                ...r,
                latency: {
                  tool: `Chromium ${browser!.version()} (${CHROMIUM}) page, /client.js gRPC-Web through the edge; abort instant on the page's clock, worker /metrics polled every ${POLL_MS} ms from Node (arrival of the first scrape showing the cancellation)`,
                  summary: summarize(res.samplesMs.map((ms) => ms * 1000)),
                  errors: res.completed + res.unseen,
                },
                cancel: { calls: res.calls, cancelled: res.cancelled, completed: res.completed, unseen: res.unseen },
                notes,
              };
            } finally {
              await page.close().catch(() => undefined);
              await edge?.dispose().catch(() => undefined);
              edge = undefined;
            }
          });
        }

        if (wantHealth(m.mode)) {
          const r = healthRow(m);
          await attempt(rows, r, async () => {
            progress(`  ${r.id}: ${IDLE_PROBES} idle probes, then ${k.probes} probes ${PROBE_AT_MS} ms into a slow call each`);
            // Warm: one slow call (session, h2c connection) and the probe's own keep-alive connection.
            await healthProbes(w, 1, true, k.maxSeconds);
            const idle = await healthProbes(w, IDLE_PROBES, false, k.maxSeconds);
            const first = await slowCounts(w);
            const res = await healthProbes(w, k.probes, true, k.maxSeconds);
            // Inline, a probe waits out the rest of the run: the run's length explains the figure.
            const runMs = meanRunMs(first, await slowCounts(w));
            const notes = [
              `${res.samplesMs.length} probes, ${res.midRun} sent while their slow call was in flight`,
              `mean session run ${runMs.toFixed(0)} ms`,
              `idle worker: p50 ${pct(idle.samplesMs, "p50Us")}, p99 ${pct(idle.samplesMs, "p99Us")} (${idle.samplesMs.length} probes)`,
            ];
            if (res.errors) notes.push(`${res.errors} probes not 200`);
            if (res.capped) notes.push(`time cap ${k.maxSeconds} s hit after ${res.samplesMs.length} of ${k.probes} probes`);
            return {
              ...r,
              latency: {
                tool: `Node fetch (undici, HTTP/1.1 keep-alive) GET /v2/health/ready on the worker, ${PROBE_AT_MS} ms into a slow call from connect-node (h2c)`,
                summary: summarize(res.samplesMs.map((ms) => ms * 1000)),
                errors: res.errors,
              },
              notes,
            };
          });
        }
      } catch (error) {
        // The worker did not start: this mode's rows say so, the other mode still runs.
        console.error(`[bench] cancel SESSION_THREADS=${m.env} failed:`, error);
        skipRest(message(error), [m]);
      } finally {
        await stopServers();
      }
    }
    progress(`cancel: done in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  } catch (error) {
    console.error("[bench] cancel scenario failed:", error);
    skipRest(message(error));
  } finally {
    await stopAll();
  }
}

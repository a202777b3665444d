// Scenario 4, `graphql`: what GraphQL costs and buys over REST on the same
// edge (the bundle under `workerd serve`, anonymous, no Redis) and the same
// real worker.
//
//   1. One unit of work = three inferences on three models (iris, mlp-wide,
//      nobatch), made three ways: one GraphQL query with three `infer` fields
//      (tensor data as variables), three sequential REST calls, three parallel
//      REST calls (Promise.all). Timed whole at concurrency 1 from this process
//      (undici fetch, keep-alive): the three variants pay the same client cost,
//      and they run interleaved (one unit of each per round, order rotating) so
//      drift on the shared machine hits all three alike. Bytes on the wire per
//      unit are counted in a separate pass.
//   2. One iris call, GraphQL vs REST, with wrk like the other edge rows
//      (c=1 latency incl. mean, c=N req/s).
//
// No shipped third model exists, so the worker runs on a temporary repository
// holding models/iris, models/mlp-wide and test/fixtures/models/nobatch
// (real folders, model files symlinked: the worker lists folders with Dirent
// types, which do not follow symlinked folders).
//
// Every request carries `cache-control: no-store`: the edge's request scope
// hands the client's headers to the pipeline for /graphql exactly as for /v2
// (edge/http/request-scope.ts -> scope.client.headers), so GraphQL fields
// bypass the cache too; the x-cache header seen on each checked answer is
// noted on its row, and a HIT fails the check.
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { mkdirSync, readdirSync, statSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { IRIS_ROWS, irisRestBody } from "../../test/support/iris.js";
import { FIXTURE_MODELS, MODELS } from "../../test/support/paths.js";
import type { WorkerHandle } from "../../test/support/worker-process.js";
import { startWorker } from "../../test/support/worker-process.js";
import { selected, type BenchConfig } from "../lib/config.js";
import { message, skippedRow } from "../lib/row.js";
import { summarize } from "../lib/stats.js";
import { scratchDir, type PostTarget } from "../lib/tools.js";
import type { Row, WireBytes } from "../lib/types.js";
import type { WorkerdHandle } from "../workerd/serve.js";
import { mlpRow, mlpWidth } from "./batching.js";
import { buildEdge, edgeRestTarget, http1Row, startEdgeWorkerd } from "./edge.js";
import type { ScenarioHooks } from "./edge-cache.js";

export const GRAPHQL_IDS = ["graphql-3model", "graphql-3model-rest-seq", "graphql-3model-rest-par", "graphql-iris", "graphql-iris-rest"] as const;
export type GraphqlRowId = (typeof GRAPHQL_IDS)[number];

export const GRAPHQL_LABELS: Record<GraphqlRowId, string> = {
  "graphql-3model": "3 models: one GraphQL query, 3 infer fields",
  "graphql-3model-rest-seq": "3 models: 3 sequential REST calls",
  "graphql-3model-rest-par": "3 models: 3 parallel REST calls",
  "graphql-iris": "iris: one GraphQL infer",
  "graphql-iris-rest": "iris: one REST call",
};

const NO_STORE = { "cache-control": "no-store" };
const JSON_HEADERS = { "content-type": "application/json", ...NO_STORE };
// The GraphQL-over-HTTP media type: request errors answer 4xx instead of 200
// (field errors still answer 200, hence the `errors` check before measuring).
const GRAPHQL_HEADERS = { ...JSON_HEADERS, accept: "application/graphql-response+json" };

const OUTPUTS = "modelName modelVersion outputs { name datatype shape data }";

const IRIS_QUERY = `query Iris($data: TensorData!) {
  infer(model: "iris", inputs: [{name: "input", datatype: FP32, shape: [${IRIS_ROWS.length}, 4], data: $data}]) { ${OUTPUTS} }
}`;

function threeModelQuery(width: number): string {
  return `query Three($iris: TensorData!, $mlp: TensorData!, $nobatch: TensorData!) {
  iris: infer(model: "iris", inputs: [{name: "input", datatype: FP32, shape: [${IRIS_ROWS.length}, 4], data: $iris}]) { ${OUTPUTS} }
  mlp: infer(model: "mlp-wide", inputs: [{name: "input", datatype: FP32, shape: [1, ${width}], data: $mlp}]) { ${OUTPUTS} }
  nobatch: infer(model: "nobatch", inputs: [{name: "x", datatype: FP32, shape: [2, 2], data: $nobatch}]) { ${OUTPUTS} }
}`;
}

/** nobatch's input: one [2, 2] FP32 matrix (no batch dimension). */
const NOBATCH_DATA = [
  [0.5, -1.25],
  [2, 0.75],
];

/** A temporary model repository: iris, mlp-wide and the nobatch fixture (folders real, files symlinked). */
export function threeModelRepository(): string {
  const root = join(scratchDir(), "models-3");
  const mirror = (from: string, to: string) => {
    mkdirSync(to, { recursive: true });
    for (const name of readdirSync(from)) {
      const source = join(from, name);
      if (statSync(source).isDirectory()) mirror(source, join(to, name));
      else symlinkSync(source, join(to, name));
    }
  };
  mirror(join(MODELS, "iris"), join(root, "iris"));
  mirror(join(MODELS, "mlp-wide"), join(root, "mlp-wide"));
  mirror(join(FIXTURE_MODELS, "nobatch"), join(root, "nobatch"));
  return root;
}

interface Inputs {
  width: number;
  iris: number[][];
  mlp: number[];
  nobatch: number[][];
}

function jsonBody(value: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value));
}

function restTarget(baseUrl: string, model: string, input: { name: string; shape: number[]; data: unknown }, extra: Record<string, string>): PostTarget {
  return {
    url: `${baseUrl}/v2/models/${model}/infer`,
    body: jsonBody({ inputs: [{ name: input.name, datatype: "FP32", shape: input.shape, data: input.data }] }),
    headers: { ...JSON_HEADERS, ...extra },
  };
}

function restTargets(baseUrl: string, inputs: Inputs, extra: Record<string, string>): PostTarget[] {
  return [
    restTarget(baseUrl, "iris", { name: "input", shape: [inputs.iris.length, 4], data: inputs.iris }, extra),
    restTarget(baseUrl, "mlp-wide", { name: "input", shape: [1, inputs.width], data: inputs.mlp }, extra),
    restTarget(baseUrl, "nobatch", { name: "x", shape: [2, 2], data: inputs.nobatch }, extra),
  ];
}

function graphqlTarget(baseUrl: string, query: string, variables: Record<string, unknown>, extra: Record<string, string>): PostTarget {
  return { url: `${baseUrl}/graphql`, body: jsonBody({ query, variables }), headers: { ...GRAPHQL_HEADERS, ...extra } };
}

// ---------------------------------------------------------------- checks

interface Answer {
  status: number;
  xCache: string | null;
  text: string;
}

async function post(target: PostTarget): Promise<Answer> {
  const response = await fetch(target.url, { method: "POST", headers: target.headers, body: target.body, signal: AbortSignal.timeout(10_000) });
  return { status: response.status, xCache: response.headers.get("x-cache"), text: await response.text() };
}

interface OutputTensor {
  name: string;
  data: unknown;
}

const flat = (v: unknown): number[] => (Array.isArray(v) ? v.flatMap(flat) : [Number(v)]);

/** A REST answer: 200, not a cache hit, outputs present; returns its outputs. */
function checkRest(what: string, answer: Answer): OutputTensor[] {
  if (answer.status !== 200) throw new Error(`${what}: REST answered ${answer.status}: ${answer.text.slice(0, 300)}`);
  if (answer.xCache === "HIT") throw new Error(`${what}: REST answer came from the cache (x-cache: HIT) despite cache-control: no-store`);
  const json = JSON.parse(answer.text) as { outputs?: OutputTensor[] };
  if (!Array.isArray(json.outputs) || json.outputs.length === 0) throw new Error(`${what}: REST answer has no outputs: ${answer.text.slice(0, 300)}`);
  return json.outputs;
}

/** A GraphQL answer: 200, no `errors`, every field non-null with outputs; returns outputs per field. */
function checkGraphql(what: string, answer: Answer, fields: string[]): Record<string, OutputTensor[]> {
  if (answer.status !== 200) throw new Error(`${what}: GraphQL answered ${answer.status}: ${answer.text.slice(0, 300)}`);
  if (answer.xCache === "HIT") throw new Error(`${what}: GraphQL answer came from the cache (x-cache: HIT) despite cache-control: no-store`);
  const json = JSON.parse(answer.text) as { data?: Record<string, { outputs?: OutputTensor[] } | null>; errors?: unknown[] };
  if (json.errors !== undefined) throw new Error(`${what}: GraphQL answered with errors: ${JSON.stringify(json.errors).slice(0, 300)}`);
  const out: Record<string, OutputTensor[]> = {};
  for (const field of fields) {
    const outputs = json.data?.[field]?.outputs;
    if (!Array.isArray(outputs) || outputs.length === 0) throw new Error(`${what}: GraphQL field ${field} has no outputs: ${answer.text.slice(0, 300)}`);
    out[field] = outputs;
  }
  return out;
}

/** Both protocols must return the same tensors, or the comparison is meaningless. */
function sameOutputs(what: string, rest: OutputTensor[], graphql: OutputTensor[]): void {
  for (const r of rest) {
    const g = graphql.find((o) => o.name === r.name);
    if (!g) throw new Error(`${what}: GraphQL lacks output ${r.name}`);
    const a = flat(r.data);
    const b = flat(g.data);
    if (a.length !== b.length || a.some((v, i) => Math.abs(v - b[i]!) > 1e-5 * Math.max(1, Math.abs(v)))) {
      throw new Error(`${what}: output ${r.name} differs between REST and GraphQL`);
    }
  }
}

// ---------------------------------------------------------------- bytes on the wire

/**
 * Counts the bytes of every HTTP exchange fetch makes while `counting`:
 *   bodies exactly (the bytes sent; the bytes read, no content-encoding in use);
 *   request headers as undici serialized them (its `undici:client:sendHeaders`
 *     diagnostics channel: request line + headers), plus the
 *     `content-length` line and the blank line it writes with the body;
 *   response headers rebuilt from the raw name/value pairs undici parsed
 *     (`undici:request:headers`): status line + `name: value\r\n` each + blank line.
 * Chunked transfer framing, if any, is not counted. If the channels are silent
 * (another Node), headers fall back to the Headers objects plus request line and host.
 */
class WireCounter {
  requestHeaders = 0;
  requestBodies = 0;
  responseHeaders = 0;
  responseBodies = 0;
  requests = 0;
  fromChannel = 0;
  fallback = 0;
  chunked = 0;
  encoded = 0;
  private counting = false;
  private readonly onSend = (m: unknown) => {
    if (!this.counting) return;
    const headers = (m as { headers?: unknown }).headers;
    if (typeof headers === "string") {
      this.requestHeaders += Buffer.byteLength(headers, "latin1") + 2;
      this.fromChannel++;
    }
  };
  private readonly onHeaders = (m: unknown) => {
    if (!this.counting) return;
    const r = (m as { response?: { statusCode?: number; statusText?: string; headers?: unknown[] } }).response;
    if (!r || !Array.isArray(r.headers)) return;
    let n = `HTTP/1.1 ${r.statusCode ?? 200} ${r.statusText ?? ""}\r\n`.length + 2;
    for (let i = 0; i + 1 < r.headers.length; i += 2) n += byteLength(r.headers[i]) + 2 + byteLength(r.headers[i + 1]) + 2;
    this.responseHeaders += n;
  };

  start(): void {
    subscribe("undici:client:sendHeaders", this.onSend);
    subscribe("undici:request:headers", this.onHeaders);
    this.counting = true;
  }

  stop(): void {
    this.counting = false;
    unsubscribe("undici:client:sendHeaders", this.onSend);
    unsubscribe("undici:request:headers", this.onHeaders);
  }

  async send(target: PostTarget): Promise<number> {
    const sentBefore = this.fromChannel;
    const headersBefore = this.responseHeaders;
    const response = await fetch(target.url, { method: "POST", headers: target.headers, body: target.body, signal: AbortSignal.timeout(10_000) });
    const body = await response.arrayBuffer();
    this.requests++;
    this.requestBodies += target.body.byteLength;
    this.requestHeaders += `content-length: ${target.body.byteLength}\r\n`.length;
    this.responseBodies += body.byteLength;
    if ((response.headers.get("transfer-encoding") ?? "").includes("chunked")) this.chunked++;
    if (response.headers.has("content-encoding")) this.encoded++;
    if (this.fromChannel === sentBefore) {
      // No channel message: approximate from what we set and what came back.
      this.fallback++;
      const u = new URL(target.url);
      let req = `POST ${u.pathname} HTTP/1.1\r\nhost: ${u.host}\r\n`.length + 2;
      for (const [k, v] of Object.entries(target.headers)) req += k.length + 2 + v.length + 2;
      this.requestHeaders += req;
    }
    if (this.responseHeaders === headersBefore) {
      let res = `HTTP/1.1 ${response.status} ${response.statusText}\r\n`.length + 2;
      response.headers.forEach((v, k) => (res += k.length + 2 + Buffer.byteLength(v) + 2));
      this.responseHeaders += res;
    }
    return response.status;
  }

  perUnit(units: number): WireBytes {
    const per = (v: number) => v / units;
    const method =
      (this.fallback === 0 ? "bodies exact; headers as undici sent/parsed them (diagnostics channels)" : `bodies exact; headers approximated from Headers on ${this.fallback}/${this.requests} requests`) +
      (this.chunked ? `; ${this.chunked} chunked answers (framing not counted)` : "") +
      (this.encoded ? `; ${this.encoded} compressed answers (decoded size counted)` : "");
    return {
      units,
      requestsPerUnit: per(this.requests),
      requestHeaderBytes: per(this.requestHeaders),
      requestBodyBytes: per(this.requestBodies),
      responseHeaderBytes: per(this.responseHeaders),
      responseBodyBytes: per(this.responseBodies),
      method,
    };
  }
}

function byteLength(v: unknown): number {
  return Buffer.isBuffer(v) ? v.byteLength : v instanceof Uint8Array ? v.byteLength : Buffer.byteLength(String(v));
}

/** Counts `units` units of one variant (after the timed runs, so counting costs nothing measured). */
async function wirePass(variant: (send: (t: PostTarget) => Promise<number>) => Promise<unknown>, units: number): Promise<WireBytes> {
  const counter = new WireCounter();
  counter.start();
  try {
    for (let i = 0; i < units; i++) await variant((t) => counter.send(t));
  } finally {
    counter.stop();
  }
  return counter.perUnit(units);
}

// ---------------------------------------------------------------- timing

/** fetch, body read, status checked; what every timed request does, whichever the variant. */
async function timedPost(target: PostTarget): Promise<number> {
  const response = await fetch(target.url, { method: "POST", headers: target.headers, body: target.body, signal: AbortSignal.timeout(10_000) });
  await response.arrayBuffer();
  return response.status;
}

type Variant = (send: (t: PostTarget) => Promise<number>) => Promise<boolean>;

interface UnitRun {
  samples: number[];
  errors: number;
}

/**
 * Concurrency 1, interleaved: each round runs one unit of every variant, the
 * order rotating per round. Warm-up rounds first (discarded). Bounded by
 * `units` rounds and by `maxSeconds` (warm-up included).
 */
async function interleaved(variants: Variant[], units: number, warmup: number, maxSeconds: number): Promise<{ runs: UnitRun[]; seconds: number }> {
  const runs: UnitRun[] = variants.map(() => ({ samples: [], errors: 0 }));
  const started = performance.now();
  const deadline = started + maxSeconds * 1000;
  for (let round = 0; round < warmup + units && performance.now() < deadline; round++) {
    for (let k = 0; k < variants.length; k++) {
      const i = (round + k) % variants.length;
      const t0 = performance.now();
      let ok = false;
      try {
        ok = await variants[i]!(timedPost);
      } catch {
        ok = false;
      }
      const us = (performance.now() - t0) * 1000;
      if (round < warmup) continue;
      if (ok) runs[i]!.samples.push(us);
      else runs[i]!.errors++;
    }
  }
  return { runs, seconds: (performance.now() - started) / 1000 };
}

// ---------------------------------------------------------------- scenario

export async function graphqlScenario(config: BenchConfig, rows: Row[], hooks: ScenarioHooks): Promise<void> {
  const want = (id: GraphqlRowId) => selected(config, id, "graphql");
  const wanted = GRAPHQL_IDS.filter(want);
  if (wanted.length === 0) return;
  const { progress, attempt } = hooks;
  const row = (id: GraphqlRowId): Row => ({ scenario: "graphql", id, label: GRAPHQL_LABELS[id] });
  const skipAll = (why: string, ids: readonly GraphqlRowId[] = wanted) => {
    for (const id of ids) if (!rows.some((r) => r.id === id)) rows.push(skippedRow(row(id), why));
  };
  const extra = config.edgeHeaders;

  let worker: WorkerHandle | undefined;
  let edge: WorkerdHandle | undefined;
  const stops: (() => Promise<unknown>)[] = [];
  const stopAll = async () => {
    while (stops.length) await stops.pop()!().catch(() => undefined);
  };
  hooks.onCleanup(stopAll);
  try {
    try {
      progress("graphql: bundling the edge, starting a worker on iris + mlp-wide + nobatch, workerd serve");
      await buildEdge();
      worker = await startWorker({ repository: threeModelRepository(), env: config.irisBatching ? { BATCHING: config.irisBatching } : {} });
      stops.push(() => worker!.stop());
      edge = await startEdgeWorkerd(worker.url, config.edgeVars);
      stops.push(() => edge!.stop());
    } catch (error) {
      console.error("[bench] graphql setup failed:", error);
      skipAll(`setup failed: ${message(error)}`);
      return;
    }
    const base = edge.url;
    const width = await mlpWidth(worker);
    const inputs: Inputs = { width, iris: IRIS_ROWS, mlp: Array.from(mlpRow(width)), nobatch: NOBATCH_DATA };

    // ---- 1. three models: one query vs three REST calls, sequential and parallel
    const compositeIds = (["graphql-3model", "graphql-3model-rest-seq", "graphql-3model-rest-par"] as const).filter(want);
    if (compositeIds.length > 0) {
      const rest = restTargets(base, inputs, extra);
      const gql = graphqlTarget(base, threeModelQuery(width), { iris: inputs.iris, mlp: inputs.mlp, nobatch: inputs.nobatch }, extra);
      const fields = ["iris", "mlp", "nobatch"];
      // Per-call times inside the sequential variant (measured rounds only count
      // once warm-up is over; the warm-up samples are dropped below).
      const perCall: number[][] = rest.map(() => []);
      const variants: Record<(typeof compositeIds)[number], Variant> = {
        "graphql-3model": async (send) => (await send(gql)) === 200,
        "graphql-3model-rest-seq": async (send) => {
          let ok = true;
          for (const [i, t] of rest.entries()) {
            const t0 = performance.now();
            ok = (await send(t)) === 200 && ok;
            perCall[i]!.push((performance.now() - t0) * 1000);
          }
          return ok;
        },
        "graphql-3model-rest-par": async (send) => (await Promise.all(rest.map(send))).every((s) => s === 200),
      };
      try {
        // Checked once before measuring: statuses, no errors, no cache hit, same tensors both ways.
        progress("graphql: checking the 3-model query and the REST calls");
        const restAnswers = await Promise.all(rest.map(post));
        const restOutputs = restAnswers.map((a, i) => checkRest(fields[i]!, a));
        const gqlAnswer = await post(gql);
        const gqlOutputs = checkGraphql("3-model query", gqlAnswer, fields);
        fields.forEach((f, i) => sameOutputs(f, restOutputs[i]!, gqlOutputs[f]!));
        const cacheNote = (xs: (string | null)[]) => `x-cache: ${xs.map((x) => x ?? "absent").join(", ")}`;
        const units = config.graphqlUnits;
        const warm = config.graphqlWarmupUnits;
        progress(`  3-model: ${warm} warm-up + ${units} units of each variant, interleaved (c=1)`);
        const { runs, seconds } = await interleaved(compositeIds.map((id) => variants[id]), units, warm, config.graphqlMaxSeconds);
        const callP50 = perCall.map((xs) => summarize(xs.slice(Math.min(warm, xs.length))).p50Us);
        const sum = callP50.reduce((a, b) => a + b, 0);
        const max = Math.max(...callP50);
        const perCallNote =
          `REST per call p50 (inside the sequential units): ${["iris", "mlp-wide", "nobatch"].map((m, i) => `${m} ${Math.round(callP50[i]!)} µs`).join(", ")}; ` +
          `a perfect fan-out is at most sum/max = ${(sum / max).toFixed(2)}x faster than sequential`;
        progress(`  3-model: bytes on the wire (${config.graphqlWireUnits} units each)`);
        for (const [i, id] of compositeIds.entries()) {
          const r = row(id);
          await attempt(rows, r, async () => {
            const run = runs[i]!;
            r.latency = { tool: "undici fetch, keep-alive, c=1 (whole unit)", summary: summarize(run.samples), errors: run.errors };
            r.wire = await wirePass(variants[id], config.graphqlWireUnits);
            r.baseline = "graphql-3model-rest-seq";
            r.notes = [
              id === "graphql-3model" ? cacheNote([gqlAnswer.xCache]) : cacheNote(restAnswers.map((a) => a.xCache)),
              ...(id === "graphql-3model-rest-seq" ? [perCallNote] : []),
              `${run.samples.length} units, interleaved with the other variants (${seconds.toFixed(1)} s for all)`,
              ...(run.errors ? [`${run.errors} failed units`] : []),
            ];
            return r;
          });
        }
      } catch (error) {
        console.error("[bench] graphql 3-model failed:", error);
        skipAll(message(error), compositeIds);
      }
    }

    // ---- 2. one iris call, GraphQL vs REST, wrk
    const plan = { concurrency: config.irisConcurrency, seconds: config.seconds, requests: config.requests };
    const irisTargets: Record<"graphql-iris" | "graphql-iris-rest", PostTarget> = {
      "graphql-iris-rest": edgeRestTarget(base, extra),
      "graphql-iris": graphqlTarget(base, IRIS_QUERY, { data: irisRestBody().inputs[0]!.data }, extra),
    };
    // Paired cross-check of the added latency: the two single calls alternated
    // from this process (same client cost both ways), immune to drift between
    // the two wrk runs on a shared machine.
    let paired: string | undefined;
    if (want("graphql-iris") && want("graphql-iris-rest")) {
      try {
        // Checked before anything is timed (the rows check again before wrk runs).
        const g = checkGraphql("iris query", await post(irisTargets["graphql-iris"]), ["infer"]);
        sameOutputs("iris", checkRest("iris", await post(irisTargets["graphql-iris-rest"])), g.infer!);
        const one = (t: PostTarget): Variant => async (send) => (await send(t)) === 200;
        const units = config.graphqlUnits;
        progress(`  iris: ${units} alternating GraphQL/REST pairs (undici fetch, c=1)`);
        const { runs } = await interleaved([one(irisTargets["graphql-iris"]), one(irisTargets["graphql-iris-rest"])], units, config.graphqlWarmupUnits, config.graphqlMaxSeconds);
        const [gs, r] = runs.map((x) => summarize(x.samples)) as [ReturnType<typeof summarize>, ReturnType<typeof summarize>];
        const d = (k: "meanUs" | "p50Us" | "p99Us") => `${gs[k] - r[k] >= 0 ? "+" : ""}${Math.round(gs[k] - r[k])} µs`;
        const failed = runs[0]!.errors + runs[1]!.errors;
        paired = `paired check (${gs.count} alternating${failed ? `, ${failed} failed` : ""} fetch pairs): GraphQL - REST mean ${d("meanUs")}, p50 ${d("p50Us")}, p99 ${d("p99Us")} (REST mean ${Math.round(r.meanUs)} µs)`;
      } catch (error) {
        paired = `paired check failed: ${message(error)}`;
      }
    }
    for (const id of ["graphql-iris-rest", "graphql-iris"] as const) {
      if (!want(id)) continue;
      const r = row(id);
      await attempt(rows, r, async () => {
        const target = irisTargets[id];
        const answer = await post(target);
        if (id === "graphql-iris") {
          const g = checkGraphql("iris query", answer, ["infer"]);
          sameOutputs("iris", checkRest("iris", await post(irisTargets["graphql-iris-rest"])), g.infer!);
        } else checkRest("iris", answer);
        r.notes = [`x-cache: ${answer.xCache ?? "absent"}`, ...(id === "graphql-iris" && paired ? [paired] : [])];
        r.baseline = "graphql-iris-rest";
        r.wire = await wirePass(async (send) => send(target), config.graphqlWireUnits);
        return http1Row(config, r, target, plan, progress);
      });
    }
  } finally {
    await stopAll();
  }
  const order = new Map(GRAPHQL_IDS.map((id, i) => [id as string, i]));
  const mine = rows.filter((r) => r.scenario === "graphql").sort((a, b) => order.get(a.id)! - order.get(b.id)!);
  const others = rows.filter((r) => r.scenario !== "graphql");
  rows.splice(0, rows.length, ...others, ...mine);
}

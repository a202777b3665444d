// Turns rows into the side-by-side table (stdout and markdown) and the JSON
// record. Every figure is also shown as a ratio to its scenario's floor.
import type { BenchConfig } from "./config.js";
import type { MachineFacts } from "./machine.js";
import type { Row } from "./types.js";

export interface Goal {
  name: string;
  target: string;
  measured: string;
  /** null when a figure it needs is missing. */
  met: boolean | null;
}

export interface BenchReport {
  startedAt: string;
  durationSeconds: number;
  command: string;
  machine: MachineFacts;
  config: Record<string, unknown>;
  rows: Row[];
  goals: Goal[];
}

const us = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? "-" : v >= 10_000 ? `${(v / 1000).toFixed(1)} ms` : `${Math.round(v)} µs`);
const rps = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? "-" : v >= 100 ? Math.round(v).toLocaleString("en-US") : v.toFixed(1));
const ratio = (v: number | undefined, floor: number | undefined) =>
  v === undefined || floor === undefined || !Number.isFinite(v) || !Number.isFinite(floor) || floor === 0 ? "-" : `${(v / floor).toFixed(v / floor >= 10 ? 1 : 2)}x`;

/** cancel has no floor: its figures are absolute (the idle worker's health figure is in the notes). */
export const FLOOR_ID: Record<Row["scenario"], string> = { iris: "floor", "mlp-wide": "mlp-floor", "edge-cache": "cache-bare", graphql: "graphql-iris-rest", browser: "browser-rest-node", cancel: "" };
/** What the ratio columns divide by: the floor, or for edge-cache the bare Worker. */
const FLOOR_NAME: Record<Row["scenario"], string> = { iris: "floor", "mlp-wide": "floor", "edge-cache": "bare", graphql: "REST", browser: "Node", cancel: "" };
const SCENARIOS = ["iris", "mlp-wide", "edge-cache", "graphql", "browser", "cancel"] as const;

interface Cells {
  header: string[];
  lines: string[][];
  /** Column indexes holding figures (right-aligned). */
  numeric: Set<number>;
}

const perRequest = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? "-" : v.toFixed(2));

const bytes = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? "-" : v >= 10_000 ? `${(v / 1000).toFixed(1)} kB` : `${Math.round(v)} B`);

/** Request + response bytes per unit, headers included. */
function wireTotal(r: Row): number | undefined {
  const w = r.wire;
  return w ? w.requestHeaderBytes + w.requestBodyBytes + w.responseHeaderBytes + w.responseBodyBytes : undefined;
}

function cells(rows: Row[], scenario: Row["scenario"]): Cells {
  const mine = rows.filter((r) => r.scenario === scenario);
  if (scenario === "graphql") return graphqlCells(mine);
  if (scenario === "browser") return browserCells(mine);
  if (scenario === "cancel") return cancelCells(mine);
  const floor = mine.find((r) => r.id === FLOOR_ID[scenario]);
  const n = mine.find((r) => r.throughput)?.throughput?.concurrency;
  const f = FLOOR_NAME[scenario];
  const redis = scenario === "edge-cache";
  const header = [
    "row", "p50 c=1", "p99 c=1", `p50 ×${f}`, `req/s c=${n ?? "N"}`, `req/s ×${f}`, `p99 c=${n ?? "N"}`,
    ...(redis ? ["Redis trips/req"] : []),
    "tool c=1 | tool c=N", "notes",
  ];
  const lines = mine.map((r) => [
    r.reference ? `${r.label} (ref)` : r.label,
    us(r.latency?.summary.p50Us),
    us(r.latency?.summary.p99Us),
    r.id === floor?.id ? "1x" : ratio(r.latency?.summary.p50Us, floor?.latency?.summary.p50Us),
    rps(r.throughput?.rps),
    r.id === floor?.id ? "1x" : ratio(r.throughput?.rps, floor?.throughput?.rps),
    us(r.throughput?.p99Us),
    ...(redis ? [r.id === floor?.id ? "-" : perRequest(r.redis?.trips)] : []),
    [r.latency?.tool ?? "-", r.throughput?.tool ?? "-"].join(" | "),
    [r.skipped ? `skipped: ${r.skipped}` : "", ...(r.notes ?? [])].filter(Boolean).join("; "),
  ]);
  const numeric = new Set(Array.from({ length: redis ? 7 : 6 }, (_, i) => i + 1));
  return { header, lines, numeric };
}

/**
 * The graphql table: each row against its own baseline (three sequential REST
 * calls for the 3-model rows, one REST call for the iris rows), plus the mean
 * at c=1 and the bytes on the wire per unit.
 */
function graphqlCells(mine: Row[]): Cells {
  const byId = new Map(mine.map((r) => [r.id, r]));
  const n = mine.find((r) => r.throughput)?.throughput?.concurrency;
  const header = [
    "row", "mean c=1", "p50 c=1", "p99 c=1", "p50 ×base", `req/s c=${n ?? "N"}`, `req/s ×base`, `p99 c=${n ?? "N"}`,
    "bytes/unit", "req+resp headers", "tool c=1 | tool c=N", "notes",
  ];
  const lines = mine.map((r) => {
    const base = r.baseline ? byId.get(r.baseline) : undefined;
    const isBase = base?.id === r.id;
    const w = r.wire;
    return [
      r.label,
      us(r.latency?.summary.meanUs),
      us(r.latency?.summary.p50Us),
      us(r.latency?.summary.p99Us),
      isBase ? "1x" : ratio(r.latency?.summary.p50Us, base?.latency?.summary.p50Us),
      rps(r.throughput?.rps),
      isBase && r.throughput ? "1x" : ratio(r.throughput?.rps, base?.throughput?.rps),
      us(r.throughput?.p99Us),
      bytes(wireTotal(r)),
      w ? `${bytes(w.requestHeaderBytes + w.responseHeaderBytes)} (${w.requestsPerUnit.toFixed(0)} req)` : "-",
      [r.latency?.tool ?? "-", r.throughput?.tool ?? "-"].join(" | "),
      [r.skipped ? `skipped: ${r.skipped}` : "", base && !isBase ? `base: ${base.label}` : "", ...(r.notes ?? [])].filter(Boolean).join("; "),
    ];
  });
  return { header, lines, numeric: new Set([1, 2, 3, 4, 5, 6, 7, 8, 9]) };
}

/** Request + response body bytes per call, e.g. "120 + 180 = 300 B". */
function bodyCell(r: Row | undefined): string {
  const b = r?.bodies;
  return b ? `${Math.round(b.request)} + ${Math.round(b.response)} = ${Math.round(b.request + b.response)} B` : "-";
}

/**
 * The browser table: one line per protocol, Chromium and Node side by side
 * (rows `browser-<protocol>` and `browser-<protocol>-node`).
 */
function browserCells(mine: Row[]): Cells {
  const byId = new Map(mine.map((r) => [r.id, r]));
  const protocols: { key: string; label: string }[] = [];
  for (const r of mine) {
    const key = r.id.replace(/-node$/, "");
    if (!protocols.some((p) => p.key === key)) protocols.push({ key, label: r.label.replace(/ \((Chromium|Node)\)$/, "") });
  }
  const header = [
    "protocol", "Chromium p50", "Node p50", "Chromium p99", "Node p99", "p50 Chromium-Node",
    "Chromium bytes/call (req + resp)", "Node bytes/call (req + resp)", "calls C | N", "notes",
  ];
  const lines = protocols.map(({ key, label }) => {
    const c = byId.get(key);
    const n = byId.get(`${key}-node`);
    const cp50 = c?.latency?.summary.p50Us;
    const np50 = n?.latency?.summary.p50Us;
    const delta = cp50 !== undefined && np50 !== undefined && Number.isFinite(cp50) && Number.isFinite(np50) ? `${signed(cp50 - np50)} µs` : "-";
    const calls = (r: Row | undefined) => (r?.latency ? `${r.latency.summary.count}${r.latency.errors ? ` (${r.latency.errors} err)` : ""}` : "-");
    const note = (who: string, r: Row | undefined) => {
      const parts = [r?.skipped ? `skipped: ${r.skipped}` : "", ...(r?.notes ?? [])].filter(Boolean);
      return parts.length ? `${who}: ${parts.join(", ")}` : "";
    };
    return [
      label,
      us(cp50),
      us(np50),
      us(c?.latency?.summary.p99Us),
      us(n?.latency?.summary.p99Us),
      delta,
      bodyCell(c),
      bodyCell(n),
      `${calls(c)} | ${calls(n)}`,
      [note("Chromium", c), note("Node", n)].filter(Boolean).join("; "),
    ];
  });
  return { header, lines, numeric: new Set([1, 2, 3, 4, 5, 6, 7, 8]) };
}

/**
 * The cancel table: milliseconds, since both figures are tens to hundreds of
 * them; the outcome columns belong to the abort rows (`-` on the health rows).
 */
function cancelCells(mine: Row[]): Cells {
  const ms = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? "-" : `${(v / 1000).toFixed(v < 10_000 ? 2 : 1)} ms`);
  const header = ["row", "p50", "p99", "max", "samples", "cancelled", "completed", "no outcome", "notes"];
  const lines = mine.map((r) => {
    const s = r.latency?.summary;
    const c = r.cancel;
    const of = (n: number | undefined) => (c && n !== undefined ? `${n}/${c.calls}` : "-");
    return [
      r.label,
      ms(s?.p50Us),
      ms(s?.p99Us),
      ms(s?.maxUs),
      s ? String(s.count) : "-",
      of(c?.cancelled),
      of(c?.completed),
      of(c?.unseen),
      [r.skipped ? `skipped: ${r.skipped}` : "", ...(r.notes ?? [])].filter(Boolean).join("; "),
    ];
  });
  return { header, lines, numeric: new Set([1, 2, 3, 4, 5, 6, 7]) };
}

/** How the cancel rows were measured, under their table. */
export function cancelSummary(rows: Row[]): string[] {
  const mine = rows.filter((r) => r.scenario === "cancel" && r.latency);
  if (mine.length === 0) return [];
  const out = [
    "model: the `slow` test fixture (~300 ms per run), one worker process per SESSION_THREADS mode on test/fixtures/models; samples = cancellations seen (abort rows) or probes (health rows)",
  ];
  for (const tool of [...new Set(mine.map((r) => r.latency!.tool))]) out.push(tool);
  return out;
}

/** What the browser rows measured and how, under their table. */
export function browserSummary(rows: Row[]): string[] {
  const mine = rows.filter((r) => r.scenario === "browser" && !r.skipped);
  if (mine.length === 0) return [];
  const out: string[] = [
    "edge: the edge bundle + the playground's static assets under Miniflare (startEdge(vars, { assets: true }), as the e2e tests run it) and one worker process; both columns call this same edge over HTTP/1.1 on 127.0.0.1",
    "body: the bench's iris body (3 rows x 4 FP32) in the page's JSON editor; Node's REST/GraphQL calls send the bytes the page sent, its Connect/gRPC-Web calls the message decoded from the page's Connect binary body",
  ];
  const chromium = mine.find((r) => !r.id.endsWith("-node") && r.latency);
  const node = mine.filter((r) => r.id.endsWith("-node") && r.latency);
  if (chromium?.latency) out.push(`Chromium: ${chromium.latency.tool}`);
  for (const tool of [...new Set(node.map((r) => r.latency!.tool))]) out.push(`Node: ${tool}`);
  for (const method of [...new Set(mine.map((r) => r.bodies?.method).filter((m): m is string => m !== undefined))]) out.push(`bytes: ${method}`);
  return out;
}

/** GraphQL against REST: the 3-model unit of work and the single call. */
export function graphqlSummary(rows: Row[]): string[] {
  const byId = new Map(rows.filter((r) => r.scenario === "graphql").map((r) => [r.id, r]));
  const out: string[] = [];
  const gql = byId.get("graphql-3model");
  const seq = byId.get("graphql-3model-rest-seq");
  const par = byId.get("graphql-3model-rest-par");
  const speed = (a: Row | undefined, b: Row | undefined) => {
    const x = a?.latency?.summary.p50Us;
    const y = b?.latency?.summary.p50Us;
    return x && y ? `${(y / x).toFixed(2)}x` : "-";
  };
  if (gql?.latency) {
    out.push(`3 models, p50 per unit: GraphQL ${us(gql.latency.summary.p50Us)}, sequential REST ${us(seq?.latency?.summary.p50Us)} (GraphQL ${speed(gql, seq)} as fast), parallel REST ${us(par?.latency?.summary.p50Us)} (GraphQL ${speed(gql, par)} as fast)`);
  }
  const wires = [gql, seq, par].filter((r): r is Row => r?.wire !== undefined);
  if (wires.length) {
    const w = (r: Row) => r.wire!;
    out.push(
      `3 models, bytes per unit (request headers + body / response headers + body): ` +
        wires.map((r) => `${r.id === "graphql-3model" ? "GraphQL" : r.id.endsWith("seq") ? "REST sequential" : "REST parallel"} ${bytes(w(r).requestHeaderBytes)} + ${bytes(w(r).requestBodyBytes)} / ${bytes(w(r).responseHeaderBytes)} + ${bytes(w(r).responseBodyBytes)} = ${bytes(wireTotal(r))}`).join("; "),
    );
    out.push(`  counted: ${wires[0]!.wire!.method}; ${wires[0]!.wire!.units} units per variant`);
  }
  const one = byId.get("graphql-iris");
  const rest = byId.get("graphql-iris-rest");
  if (one?.latency && rest?.latency) {
    const d = (k: "meanUs" | "p50Us" | "p99Us") => `${signed(one.latency!.summary[k] - rest.latency!.summary[k])} µs`;
    out.push(`iris, one call, GraphQL over REST at c=1 (wrk): mean ${d("meanUs")}, p50 ${d("p50Us")}, p99 ${d("p99Us")}; req/s at c=${one.throughput?.concurrency ?? "N"}: ${ratio(one.throughput?.rps, rest.throughput?.rps)} of REST (${rps(one.throughput?.rps)} vs ${rps(rest.throughput?.rps)}); bytes ${bytes(wireTotal(one))} vs ${bytes(wireTotal(rest))}`);
  }
  return out;
}

const SCENARIO_TITLE: Record<Row["scenario"], string> = {
  iris: "iris (3 rows per request)",
  "mlp-wide": "mlp-wide (1 row per request), dynamic batching on vs off",
  "edge-cache": "edge cache and protection, iris REST under workerd serve (ratios to the bare Worker)",
  graphql: "GraphQL vs REST, edge under workerd serve, cache-control: no-store (ratios to the REST row named in notes)",
  browser: "browser vs Node: iris (3 rows) through the edge under Miniflare (assets + Worker, one worker), cache bypassed (no-store), sequential calls; bytes = request + response bodies only, as the page measures them",
  cancel: "cancel: `slow` calls from Chromium (gRPC-Web, /client.js, edge under Miniflare) aborted 50 ms in, abort -> worker's cancelled counter; worker GET /v2/health/ready 100 ms into a run; SESSION_THREADS on vs off",
};

export function textTable(report: BenchReport): string {
  const out: string[] = [];
  for (const scenario of SCENARIOS) {
    const { header, lines, numeric: right } = cells(report.rows, scenario);
    if (lines.length === 0) continue;
    const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
    const fmt = (l: string[]) => l.map((c, i) => (right.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join("  ").trimEnd();
    out.push(`== ${SCENARIO_TITLE[scenario]}`, fmt(header), widths.map((w) => "-".repeat(w)).join("  "), ...lines.map(fmt), "");
  }
  const ceiling = edgeVsCeiling(report.rows);
  if (ceiling.length) out.push("== edge vs bare Worker ceiling", ...ceiling, "");
  const cache = edgeCacheSummary(report.rows);
  if (cache.length) out.push("== edge cache vs bare Worker; auth + rate limiting cost", ...cache, "");
  const gql = graphqlSummary(report.rows);
  if (gql.length) out.push("== GraphQL vs REST", ...gql, "");
  const br = browserSummary(report.rows);
  if (br.length) out.push("== browser vs Node: how", ...br, "");
  const cancel = cancelSummary(report.rows);
  if (cancel.length) out.push("== cancel: how", ...cancel, "");
  out.push("== goals");
  for (const g of report.goals) out.push(`${g.met === null ? "n/a " : g.met ? "MET " : "MISS"}  ${g.name}: target ${g.target}; measured ${g.measured}`);
  const m = report.machine;
  out.push("", `machine: ${m.cpuModel}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.os}, node ${m.node}; load average at start ${m.loadAverageAtStart.join(" ")}`);
  out.push(`took ${report.durationSeconds.toFixed(0)} s`);
  return out.join("\n");
}

export function markdown(report: BenchReport): string {
  const esc = (s: string) => s.replace(/\|/g, "\\|");
  const out = [`# Bench results`, "", `Run ${report.startedAt} with \`${report.command}\` (${report.durationSeconds.toFixed(0)} s).`, ""];
  for (const scenario of SCENARIOS) {
    const { header, lines, numeric } = cells(report.rows, scenario);
    if (lines.length === 0) continue;
    out.push(`## ${SCENARIO_TITLE[scenario]}`, "", `| ${header.map(esc).join(" | ")} |`, `|${header.map((_, i) => (numeric.has(i) ? "---:" : "---")).join("|")}|`);
    for (const l of lines) out.push(`| ${l.map(esc).join(" | ")} |`);
    out.push("");
  }
  const ceiling = edgeVsCeiling(report.rows);
  if (ceiling.length) out.push("## Edge vs bare Worker ceiling", "", ...ceiling.map((l) => `- ${l}`), "");
  const cache = edgeCacheSummary(report.rows);
  if (cache.length) out.push("## Edge cache vs bare Worker; auth + rate limiting cost", "", ...cache.map((l) => `- ${l}`), "");
  const gql = graphqlSummary(report.rows);
  if (gql.length) out.push("## GraphQL vs REST", "", ...gql.map((l) => `- ${l.trim()}`), "");
  const br = browserSummary(report.rows);
  if (br.length) out.push("## Browser vs Node: how", "", ...br.map((l) => `- ${l}`), "");
  const cancel = cancelSummary(report.rows);
  if (cancel.length) out.push("## Cancel: how", "", ...cancel.map((l) => `- ${l}`), "");
  out.push("## Goals", "", "| goal | target | measured | met |", "|---|---|---|---|");
  for (const g of report.goals) out.push(`| ${esc(g.name)} | ${esc(g.target)} | ${esc(g.measured)} | ${g.met === null ? "n/a" : g.met ? "yes" : "no"} |`);
  const m = report.machine;
  out.push("", "## Machine", "", `- CPU: ${m.cpuModel}, ${m.cores} cores, ${m.memoryGiB} GiB`, `- OS: ${m.os}`, `- Node: ${m.node}`, `- Load average at start: ${m.loadAverageAtStart.join(" ")}`);
  for (const [k, v] of Object.entries(m.versions)) out.push(`- ${k}: ${v}`);
  out.push("");
  return out.join("\n");
}

export function goals(rows: Row[]): Goal[] {
  const byId = new Map(rows.map((r) => [r.id, r]));
  const out: Goal[] = [];
  const floor = byId.get("floor")?.latency?.summary.p50Us;
  for (const id of ["worker-connect", "worker-connect-node", "worker-grpc"]) {
    const row = byId.get(id);
    if (!row) continue;
    const p50 = row.latency?.summary.p50Us;
    const hop = p50 !== undefined && floor !== undefined ? p50 - floor : undefined;
    out.push({
      name: `worker hop p50 over session.run (${row.label})`,
      target: "<= 250 µs",
      measured: hop === undefined || !Number.isFinite(hop) ? "missing figure" : `${Math.round(hop)} µs (${Math.round(p50!)} - ${Math.round(floor!)})`,
      met: hop === undefined || !Number.isFinite(hop) ? null : hop <= 250,
    });
  }
  const on = byId.get("batching-on")?.throughput;
  const off = byId.get("batching-off")?.throughput;
  if (byId.has("batching-on") || byId.has("batching-off")) {
    const have = on && off && on.rps > 0 && off.rps > 0;
    out.push({
      name: "dynamic batching throughput (mlp-wide, on / off)",
      target: ">= 3x",
      measured: have ? `${(on.rps / off.rps).toFixed(2)}x (${Math.round(on.rps)} vs ${Math.round(off.rps)} req/s)` : "missing figure",
      met: have ? on.rps / off.rps >= 3 : null,
    });
    out.push({
      name: "dynamic batching p99 (mlp-wide, on vs off)",
      target: "on <= off",
      measured: have ? `${us(on.p99Us)} vs ${us(off.p99Us)}` : "missing figure",
      met: have ? on.p99Us <= off.p99Us : null,
    });
  }
  const bare = byId.get("cache-bare");
  const l1 = byId.get("cache-l1-key");
  if (bare || l1) {
    const b = bare?.throughput?.rps;
    const h = l1?.throughput?.rps;
    const have = b !== undefined && h !== undefined && b > 0;
    out.push({
      name: "edge-cache: L1 hit req/s vs the bare Worker (API key + rate limits, workerd serve)",
      target: ">= 0.8x",
      measured: have ? `${(h / b).toFixed(2)}x (${Math.round(h)} vs ${Math.round(b)} req/s)` : "missing figure",
      met: have ? h / b >= 0.8 : null,
    });
  }
  const open = byId.get("cache-l1-open")?.redis;
  const keyed = l1?.redis;
  if (byId.has("cache-l1-key") || byId.has("cache-l1-open")) {
    const have = open !== undefined && keyed !== undefined;
    const added = have ? keyed.trips - open.trips : undefined;
    out.push({
      name: "edge-cache: Redis round trips added by auth + rate limiting (L1 hit, API key vs no Redis)",
      target: "<= 1 per request",
      measured: added === undefined ? "missing figure" : `${added.toFixed(2)} per request (${keyed!.trips.toFixed(2)} - ${open!.trips.toFixed(2)}, ${keyed!.requests} requests counted)`,
      met: added === undefined ? null : added <= 1,
    });
  }
  const composite = byId.get("graphql-3model");
  const sequential = byId.get("graphql-3model-rest-seq");
  if (composite || sequential) {
    const g = composite?.latency?.summary.p50Us;
    const s = sequential?.latency?.summary.p50Us;
    const have = g !== undefined && s !== undefined && Number.isFinite(g) && Number.isFinite(s) && g > 0;
    out.push({
      name: "graphql: 3-model query vs 3 sequential REST calls, p50 per unit (c=1)",
      target: ">= 2x faster",
      measured: have ? `${(s / g).toFixed(2)}x (${us(g)} vs ${us(s)})` : "missing figure",
      met: have ? s / g >= 2 : null,
    });
  }
  const gi = byId.get("graphql-iris");
  const ri = byId.get("graphql-iris-rest");
  if (gi || ri) {
    const g = gi?.latency?.summary.meanUs;
    const r = ri?.latency?.summary.meanUs;
    const have = g !== undefined && r !== undefined && Number.isFinite(g) && Number.isFinite(r);
    out.push({
      name: "graphql: added mean latency of one iris call over REST (c=1, wrk)",
      target: "<= 1 ms",
      measured: have ? `${signed(g - r)} µs (${Math.round(g)} - ${Math.round(r)})` : "missing figure",
      met: have ? g - r <= 1000 : null,
    });
  }
  return out;
}

/** Each edge-cache row against the bare Worker, then what auth and rate limiting add to an L1 hit. */
export function edgeCacheSummary(rows: Row[]): string[] {
  const byId = new Map(rows.filter((r) => r.scenario === "edge-cache").map((r) => [r.id, r]));
  const bare = byId.get("cache-bare");
  const out: string[] = [];
  const dp50 = (a: Row | undefined, b: Row | undefined) =>
    a?.latency && b?.latency ? `${signed(a.latency.summary.p50Us - b.latency.summary.p50Us)} µs` : "-";
  if (bare?.latency || bare?.throughput) {
    for (const id of ["cache-l1-ceiling", "cache-l1-open", "cache-l1-anon", "cache-l1-key", "cache-l2", "cache-miss"]) {
      const r = byId.get(id);
      if (!r || r.skipped) continue;
      out.push(`${r.label}: p50 ${dp50(r, bare)} over the bare Worker, req/s ${ratio(r.throughput?.rps, bare.throughput?.rps)} of it`);
    }
  }
  const open = byId.get("cache-l1-open");
  const anon = byId.get("cache-l1-anon");
  const key = byId.get("cache-l1-key");
  if (key && open && !key.skipped && !open.skipped) {
    const trips = key.redis && open.redis ? `${signed(key.redis.trips - open.redis.trips, 2)} Redis trips and ${signed(key.redis.commands - open.redis.commands, 2)} commands per request` : "Redis -";
    out.push(`auth + rate limiting on an L1 hit (API key vs anonymous without Redis): p50 ${dp50(key, open)} per request, req/s ${ratio(key.throughput?.rps, open.throughput?.rps)}; ${trips}`);
  }
  if (anon && open && !anon.skipped && !open.skipped) {
    out.push(`  of which the rate limit alone (anonymous per IP vs no Redis): p50 ${dp50(anon, open)}; Redis ${anon.redis && open.redis ? signed(anon.redis.trips - open.redis.trips, 2) : "-"} trips per request`);
  }
  if (anon && key && !anon.skipped && !key.skipped) {
    out.push(`  and API key auth (vs anonymous, both rate limited): p50 ${dp50(key, anon)}; Redis ${anon.redis && key.redis ? signed(key.redis.trips - anon.redis.trips, 2) : "-"} trips per request (lookups cached per isolate for API_KEY_CACHE_TTL_MS)`);
  }
  return out;
}

function signed(v: number, digits = 0): string {
  const text = digits === 0 ? String(Math.round(v)) : v.toFixed(digits);
  return v >= 0 && !text.startsWith("-") ? `+${text}` : text;
}

/** How far each edge row is from the bare-Worker ceiling (same runtime, same tool). */
export function edgeVsCeiling(rows: Row[]): string[] {
  const bare = rows.find((r) => r.id === "bare");
  if (!bare?.latency && !bare?.throughput) return [];
  return rows
    .filter((r) => r.id === "edge-rest" || r.id === "edge-connect")
    .map((r) => {
      const dp50 = r.latency && bare.latency ? `p50 +${Math.round(r.latency.summary.p50Us - bare.latency.summary.p50Us)} µs` : "p50 -";
      return `${r.label}: ${dp50}, req/s ${ratio(r.throughput?.rps, bare.throughput?.rps)} of the bare Worker`;
    });
}

export function configRecord(config: BenchConfig): Record<string, unknown> {
  // Names only: these may carry secrets (tokens, API keys) that must not land in a results file.
  return { ...config, edgeVars: Object.keys(config.edgeVars), edgeHeaders: Object.keys(config.edgeHeaders), only: config.only ? [...config.only] : null };
}

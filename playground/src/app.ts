// The playground page: pick a model, read its metadata, fill its inputs (a
// generated form or the raw OIP JSON body), send over any protocol the edge
// speaks and compare. Everything talks to the edge that served the page
// (same origin), so no CORS setup is needed to use it.
import type { TensorInput } from "../../client/index.js";
import { PAGE_PROTOCOLS, outputsKey, runCall, type CallResult, type CallSettings, type InferBody, type PageProtocol } from "./calls.js";
import { drawChart, formatBytes } from "./chart.js";
import { InputForm, type TensorMeta } from "./form.js";

const HISTORY_LIMIT = 40;
const baseUrl = location.origin;

/** Example rows for the shipped models, so "Send" gives a meaningful answer at once. */
const EXAMPLES: Record<string, Record<string, number[]>> = { iris: { input: [5.1, 3.5, 1.4, 0.2] } };

interface ModelMetadata {
  name: string;
  versions: string[];
  platform: string;
  inputs: TensorMeta[];
  outputs: TensorMeta[];
  parameters?: Record<string, unknown>;
}

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const node = document.getElementById(id);
  if (!node) throw new Error(`#${id} missing from index.html`);
  return node as T;
};

const ui = {
  edge: $("edge-url"),
  authBox: $("auth"),
  authNote: $("auth-note"),
  apiKey: $<HTMLInputElement>("api-key"),
  authToggle: $<HTMLButtonElement>("auth-toggle"),
  model: $<HTMLInputElement>("model"),
  models: $<HTMLDataListElement>("models"),
  meta: $("meta"),
  form: $("form"),
  json: $<HTMLTextAreaElement>("json"),
  jsonError: $("json-error"),
  tabForm: $<HTMLButtonElement>("tab-form"),
  tabJson: $<HTMLButtonElement>("tab-json"),
  random: $<HTMLButtonElement>("random"),
  protocols: $("protocols"),
  bypass: $<HTMLInputElement>("bypass-cache"),
  send: $<HTMLButtonElement>("send"),
  runAll: $<HTMLButtonElement>("run-all"),
  cancel: $<HTMLButtonElement>("cancel"),
  status: $("status"),
  headers: $("headers"),
  outputs: $("outputs"),
  compare: $("compare"),
  chart: document.getElementById("chart") as unknown as SVGSVGElement,
  clear: $<HTMLButtonElement>("clear-history"),
};

const history: CallResult[] = [];
let metadata: ModelMetadata | undefined;
let inFlight: AbortController | undefined;

const form = new InputForm(ui.form, (body) => {
  ui.json.value = JSON.stringify(body, null, 2);
  ui.jsonError.textContent = "";
});

// ---------- settings ----------

function settings(signal?: AbortSignal): CallSettings {
  const apiKey = ui.apiKey.value.trim();
  return {
    baseUrl,
    model: ui.model.value.trim(),
    ...(apiKey ? { apiKey } : {}),
    bypassCache: ui.bypass.checked,
    ...(signal ? { signal } : {}),
  };
}

function authHeaders(): Record<string, string> {
  const key = ui.apiKey.value.trim();
  return key ? { authorization: `Bearer ${key}` } : {};
}

function showAuth(reason?: string): void {
  ui.authBox.hidden = false;
  ui.authToggle.setAttribute("aria-expanded", "true");
  if (reason) ui.authNote.textContent = reason;
}

function selectedProtocol(): PageProtocol {
  const checked = ui.protocols.querySelector<HTMLInputElement>("input:checked");
  return (checked?.value ?? "rest") as PageProtocol;
}

function enabledProtocols(): PageProtocol[] {
  return [...ui.protocols.querySelectorAll<HTMLInputElement>("input")].filter((i) => !i.disabled).map((i) => i.value as PageProtocol);
}

function renderProtocols(): void {
  for (const p of PAGE_PROTOCOLS) {
    const label = document.createElement("label");
    label.className = "protocol";
    label.style.setProperty("--colour", p.colour);
    const radio = document.createElement("input");
    radio.type = "radio";
    radio.name = "protocol";
    radio.value = p.id;
    radio.checked = p.id === "rest";
    radio.disabled = p.id === "graphql"; // until /graphql answers
    label.append(radio, ` ${p.label}`);
    label.id = `protocol-${p.id}`;
    ui.protocols.append(label);
  }
}

// ---------- models and metadata ----------

async function fetchJson(path: string, init: RequestInit = {}): Promise<{ status: number; json: any }> {
  const response = await fetch(`${baseUrl}${path}`, { ...init, headers: { ...authHeaders(), ...(init.headers as Record<string, string>) } });
  const json: unknown = await response.json().catch(() => undefined);
  return { status: response.status, json };
}

async function loadModelList(): Promise<void> {
  // OIP has no "list models" call; Triton's statistics extension for every
  // model (GET /v2/models/stats) names each loaded model and version.
  const { status, json } = await fetchJson("/v2/models/stats").catch(() => ({ status: 0, json: undefined }));
  if (status === 401) showAuth("This edge requires an API key: paste one above, then reload the model list.");
  const names = [...new Set(((json?.model_stats ?? []) as { name: string }[]).map((m) => m.name))].sort();
  ui.models.replaceChildren(...names.map((name) => Object.assign(document.createElement("option"), { value: name })));
  if (!ui.model.value) ui.model.value = names.includes("iris") ? "iris" : (names[0] ?? "");
}

async function probeGraphql(): Promise<void> {
  // GraphQL is newer than the other adapters; offer it only once /graphql
  // actually answers a GraphQL response.
  try {
    const { json } = await fetchJson("/graphql", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query: "{ __typename }" }),
    });
    const answers = json !== undefined && typeof json === "object" && ("data" in json || "errors" in json);
    const radio = ui.protocols.querySelector<HTMLInputElement>('input[value="graphql"]')!;
    radio.disabled = !answers;
    radio.parentElement!.title = answers ? "" : "GraphQL is not available on this edge";
  } catch {
    // stays disabled
  }
}

async function loadMetadata(): Promise<void> {
  const name = ui.model.value.trim();
  metadata = undefined;
  if (!name) return;
  ui.meta.textContent = "loading…";
  const { status, json } = await fetchJson(`/v2/models/${encodeURIComponent(name)}`).catch((e: unknown) => ({
    status: 0,
    json: { error: String(e) },
  }));
  if (status === 401) showAuth("This edge requires an API key.");
  if (status !== 200) {
    ui.meta.replaceChildren(el("p", `Metadata: ${json?.error ?? `HTTP ${status}`}`, "error"));
    return;
  }
  metadata = json as ModelMetadata;
  renderMetadata(metadata);
  form.show(metadata.inputs, EXAMPLES[metadata.name] ?? {});
}

function renderMetadata(m: ModelMetadata): void {
  const p = m.parameters ?? {};
  const facts: [string, string][] = [
    ["versions", m.versions.join(", ")],
    ["platform", m.platform],
    ["runs on", String(p.execution_provider ?? "?")],
    ["max batch", String(p.max_batch_size ?? "?")],
    ["cached", p.deterministic ? `yes${p.cache_ttl_s ? `, ${p.cache_ttl_s} s` : ""}` : "no"],
    ["cost / row", String(p.cost_weight ?? "?")],
  ];
  const dl = document.createElement("dl");
  dl.className = "facts";
  for (const [k, v] of facts) dl.append(el("dt", k), el("dd", v));
  const table = document.createElement("table");
  table.className = "tensors";
  table.append(row("th", ["", "name", "datatype", "shape"]));
  for (const t of m.inputs) table.append(row("td", ["in", t.name, t.datatype, `[${t.shape.join(", ")}]`]));
  for (const t of m.outputs) table.append(row("td", ["out", t.name, t.datatype, `[${t.shape.join(", ")}]`]));
  ui.meta.replaceChildren(dl, table);
}

function labelsFor(output: string): string[] | undefined {
  const raw = metadata?.parameters?.[`labels:${output}`];
  if (typeof raw !== "string") return undefined;
  try {
    const parsed: unknown = JSON.parse(raw);
    return Array.isArray(parsed) ? parsed.map(String) : undefined;
  } catch {
    return undefined;
  }
}

// ---------- sending ----------

function readBody(): InferBody | undefined {
  try {
    const parsed = JSON.parse(ui.json.value) as InferBody;
    if (!Array.isArray(parsed.inputs)) throw new Error('the body needs an "inputs" array');
    ui.jsonError.textContent = "";
    return parsed;
  } catch (error) {
    ui.jsonError.textContent = `JSON: ${(error as Error).message}`;
    showTab("json");
    return undefined;
  }
}

function record(result: CallResult): void {
  history.push(result);
  if (history.length > HISTORY_LIMIT) history.splice(0, history.length - HISTORY_LIMIT);
  drawChart(ui.chart, history);
}

async function send(protocol = selectedProtocol()): Promise<CallResult | undefined> {
  const body = readBody();
  if (!body) return undefined;
  inFlight?.abort();
  const controller = new AbortController();
  inFlight = controller;
  setBusy(true);
  try {
    const result = await runCall(protocol, body, settings(controller.signal));
    if (result.code === "unauthenticated") showAuth("The edge refused the call without a valid API key.");
    record(result);
    renderResult(result);
    return result;
  } finally {
    if (inFlight === controller) inFlight = undefined;
    setBusy(false);
  }
}

async function runAll(): Promise<void> {
  const body = readBody();
  if (!body) return;
  setBusy(true);
  const results: CallResult[] = [];
  try {
    // One after another: concurrent calls would queue behind each other in
    // the worker and blur the latency comparison.
    for (const protocol of enabledProtocols()) {
      const result = await runCall(protocol, body, settings());
      record(result);
      results.push(result);
    }
  } finally {
    setBusy(false);
  }
  renderResult(results[results.length - 1]!);
  renderComparison(results);
}

function setBusy(busy: boolean): void {
  ui.send.disabled = busy;
  ui.runAll.disabled = busy;
  ui.cancel.disabled = !busy;
  document.body.classList.toggle("busy", busy);
}

function renderResult(r: CallResult): void {
  const label = PAGE_PROTOCOLS.find((p) => p.id === r.protocol)?.label ?? r.protocol;
  ui.status.className = r.ok ? "ok" : "error";
  ui.status.dataset.code = r.code;
  ui.status.replaceChildren(
    el("strong", r.ok ? "OK" : r.code),
    document.createTextNode(` · ${label} · HTTP ${r.httpStatus || "—"} · ${r.latencyMs.toFixed(1)} ms · ↑${formatBytes(r.requestBytes)} ↓${formatBytes(r.responseBytes)}`),
  );
  if (!r.ok && r.message) ui.status.append(el("p", r.message, "message"));

  const dl = document.createElement("dl");
  dl.className = "facts";
  const shown: [string, string | undefined][] = [
    ["x-cache", r.headers["x-cache"]],
    ["Server-Timing", r.headers["server-timing"]],
    ["Retry-After", r.headers["retry-after"]],
    ["RateLimit", r.headers["ratelimit"]],
    ["request id", r.headers["x-request-id"]],
  ];
  for (const [k, v] of shown) if (v !== undefined) dl.append(el("dt", k), el("dd", v, k === "x-cache" ? "x-cache" : undefined));
  const timing = serverTiming(r.headers["server-timing"]);
  ui.headers.replaceChildren(dl, ...(timing ? [timing] : []));

  ui.outputs.replaceChildren();
  for (const out of r.outputs ?? []) {
    const box = document.createElement("div");
    box.className = "output";
    box.append(el("h4", `${out.name} `), el("code", `${out.datatype} [${out.shape.join(", ")}]`));
    const labels = labelsFor(out.name);
    const width = out.shape.at(-1) ?? out.data.length;
    const table = document.createElement("table");
    if (labels && labels.length === width) table.append(row("th", ["row", ...labels]));
    for (let i = 0; i < out.data.length; i += Math.max(1, width)) {
      table.append(row("td", [String(i / Math.max(1, width)), ...out.data.slice(i, i + Math.max(1, width)).map(formatValue)]));
    }
    box.append(table);
    ui.outputs.append(box);
  }
  ui.outputs.dataset.key = outputsKey(r.outputs);
}

/** Server-Timing entries as small bars, so where the time went reads at a glance. */
function serverTiming(header: string | undefined): HTMLElement | undefined {
  if (!header) return undefined;
  const entries = header.split(",").map((part) => {
    const [name = "", ...params] = part.trim().split(";");
    const dur = Number(params.find((p) => p.trim().startsWith("dur="))?.split("=")[1] ?? 0);
    const desc = params.find((p) => p.trim().startsWith("desc="))?.split("=")[1]?.replace(/"/g, "");
    return { name: name.trim(), dur, desc };
  });
  const max = Math.max(...entries.map((e) => e.dur), 1);
  const list = document.createElement("ul");
  list.className = "timing";
  for (const e of entries) {
    const item = el("li", "");
    const bar = el("span", "", "bar");
    bar.style.width = `${(e.dur / max) * 100}%`;
    item.append(el("span", `${e.name}${e.desc ? ` (${e.desc})` : ""}`, "name"), bar, el("span", `${e.dur} ms`, "dur"));
    list.append(item);
  }
  return list;
}

function renderComparison(results: CallResult[]): void {
  const ok = results.filter((r) => r.ok);
  const identical = ok.length === results.length && new Set(ok.map((r) => outputsKey(r.outputs))).size === 1;
  ui.compare.hidden = false;
  ui.compare.dataset.identical = String(identical);
  const table = document.createElement("table");
  table.append(row("th", ["protocol", "status", "ms", "bytes ↑", "bytes ↓", "x-cache"]));
  for (const r of results) {
    table.append(
      row("td", [
        PAGE_PROTOCOLS.find((p) => p.id === r.protocol)?.label ?? r.protocol,
        r.ok ? "OK" : r.code,
        r.latencyMs.toFixed(1),
        String(r.requestBytes),
        String(r.responseBytes),
        r.headers["x-cache"] ?? "—",
      ]),
    );
  }
  ui.compare.replaceChildren(
    el("p", identical ? `✓ All ${results.length} protocols returned identical outputs.` : "✗ The protocols' outputs differ (or some failed).", identical ? "ok" : "error"),
    table,
  );
}

// ---------- small DOM helpers ----------

function el<K extends keyof HTMLElementTagNameMap>(tag: K, content: string, className?: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  node.textContent = content;
  if (className) node.className = className;
  return node;
}

function row(cell: "td" | "th", values: string[]): HTMLTableRowElement {
  const tr = document.createElement("tr");
  for (const v of values) tr.append(el(cell, v));
  return tr;
}

function formatValue(v: unknown): string {
  if (typeof v === "number") return Number.isInteger(v) ? String(v) : v.toPrecision(4);
  return String(v);
}

function showTab(tab: "form" | "json"): void {
  ui.form.hidden = tab !== "form";
  ui.random.hidden = tab !== "form";
  ui.json.hidden = tab !== "json";
  ui.tabForm.setAttribute("aria-selected", String(tab === "form"));
  ui.tabJson.setAttribute("aria-selected", String(tab === "json"));
}

// ---------- benchmark hook ----------

export interface BenchResult {
  protocol: PageProtocol;
  model: string;
  latenciesMs: number[];
  requestBytes: number[];
  responseBytes: number[];
  errors: Record<string, number>;
}

/**
 * For bench/ (driven by a real browser): n sequential calls of the page's
 * current model and body over one protocol, with what each cost. The calls
 * also land in the chart. `bypassCache` defaults to the page's checkbox.
 */
async function gatewayBench(protocol: PageProtocol, n: number, options: { bypassCache?: boolean } = {}): Promise<BenchResult> {
  const body = readBody();
  if (!body) throw new Error("the request body is not valid JSON");
  const count = Math.max(0, Math.min(100_000, Math.floor(n)));
  const base = { ...settings(), bypassCache: options.bypassCache ?? ui.bypass.checked };
  const out: BenchResult = { protocol, model: base.model, latenciesMs: [], requestBytes: [], responseBytes: [], errors: {} };
  for (let i = 0; i < count; i++) {
    const r = await runCall(protocol, body, base);
    out.latenciesMs.push(r.latencyMs);
    out.requestBytes.push(r.requestBytes);
    out.responseBytes.push(r.responseBytes);
    if (!r.ok) out.errors[r.code] = (out.errors[r.code] ?? 0) + 1;
    history.push(r);
  }
  if (history.length > HISTORY_LIMIT) history.splice(0, history.length - HISTORY_LIMIT);
  drawChart(ui.chart, history);
  return out;
}

declare global {
  interface Window {
    gatewayBench: typeof gatewayBench;
    /** Resolves once models, metadata and the GraphQL probe are loaded. */
    playgroundReady: Promise<void>;
  }
}

// ---------- wiring ----------

ui.edge.textContent = baseUrl;
renderProtocols();
drawChart(ui.chart, history);
new ResizeObserver(() => drawChart(ui.chart, history)).observe(ui.chart.parentElement!);
showTab("form");

ui.tabForm.addEventListener("click", () => showTab("form"));
ui.tabJson.addEventListener("click", () => showTab("json"));
ui.random.addEventListener("click", () => form.randomise());
ui.json.addEventListener("input", () => (ui.jsonError.textContent = ""));
ui.model.addEventListener("change", () => void loadMetadata());
ui.send.addEventListener("click", () => void send());
ui.runAll.addEventListener("click", () => void runAll());
ui.cancel.addEventListener("click", () => inFlight?.abort());
ui.clear.addEventListener("click", () => {
  history.length = 0;
  drawChart(ui.chart, history);
});
ui.authToggle.addEventListener("click", () => {
  ui.authBox.hidden = !ui.authBox.hidden;
  ui.authToggle.setAttribute("aria-expanded", String(!ui.authBox.hidden));
});
// The key lives for this tab only: a playground should not keep secrets around.
ui.apiKey.value = sessionStorage.getItem("gateway-api-key") ?? "";
if (ui.apiKey.value) ui.authBox.hidden = false;
ui.apiKey.addEventListener("change", () => {
  sessionStorage.setItem("gateway-api-key", ui.apiKey.value.trim());
  void loadModelList().then(loadMetadata);
});

window.gatewayBench = gatewayBench;
window.playgroundReady = Promise.all([loadModelList().then(loadMetadata), probeGraphql()]).then(() => {
  document.body.dataset.ready = "true";
});

export type { TensorInput };

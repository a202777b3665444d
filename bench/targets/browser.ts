// Scenario 5, `browser`: the iris call from a real browser against the same
// call from Node, per protocol, through one edge.
//
//   The edge: the edge bundle plus the playground's static assets under
//   Miniflare (`startEdge(vars, { assets: true })`, exactly as the e2e tests
//   run it), WORKER_URLS pointing at one real worker process. Both sides talk
//   to this same Miniflare edge, so the runtime is the same for both columns.
//
//   Chromium (Debian's, via playwright-core, launched as test/e2e/browser.ts
//   does) loads the playground from the edge and drives the page's own
//   benchmark hook, `window.gatewayBench(protocol, n, { bypassCache: true })`:
//   n sequential calls, each timed by the page around the whole call (body
//   read included), with the request and response *body* bytes the page's
//   metered fetch saw.
//
//   Node makes the same calls: fetch (undici) for REST and GraphQL, sending
//   the very bytes the page sent (captured from the page's first call of each
//   protocol); the connect-node clients of test/support/clients.ts (HTTP/1.1)
//   for Connect JSON, Connect binary and gRPC-Web, with the request message
//   decoded from the page's own Connect binary body. Body bytes are counted
//   the way the page counts them: the request body as handed to the HTTP
//   client, the response body as read after HTTP framing (see BodyMeter).
//
// Every call carries `cache-control: no-store` (the page's bypassCache), so
// every call reaches the worker; the x-cache header seen is noted.
// Per protocol: probe (1 call each, all protocols, before anything is timed),
// then Chromium: warm-up + measured calls, then Node: warm-up + measured calls.
// Every loop is bounded by count and by BENCH_BROWSER_MAX_SECONDS.
import { fromBinary } from "@bufbuild/protobuf";
import * as http from "node:http";
import { brotliDecompressSync, gunzipSync, inflateSync } from "node:zlib";
import type { Browser, Page, Request as PwRequest, Response as PwResponse } from "playwright-core";
import { ModelInferRequestSchema, type ModelInferRequest } from "../../gen/inference/grpc_service_pb.js";
import { CHROMIUM, launchBrowser } from "../../test/e2e/browser.js";
import { edgeClient, type EdgeProtocol, type InferenceClient } from "../../test/support/clients.js";
import { startEdge, type EdgeHandle } from "../../test/support/edge-runtime.js";
import { irisRequest, irisRestBody } from "../../test/support/iris.js";
import { ROOT } from "../../test/support/paths.js";
import type { WorkerHandle } from "../../test/support/worker-process.js";
import { selected, type BenchConfig } from "../lib/config.js";
import { runTool } from "../lib/proc.js";
import { message, skippedRow } from "../lib/row.js";
import { summarize } from "../lib/stats.js";
import type { BodyBytes, Row } from "../lib/types.js";
import { buildEdge } from "./edge.js";
import type { ScenarioHooks } from "./edge-cache.js";
import { MODEL_INFER_PATH, startBenchWorker } from "./worker.js";

export const BROWSER_PROTOCOLS = ["rest", "connect-json", "connect-binary", "grpc-web", "graphql"] as const;
export type BrowserProtocol = (typeof BROWSER_PROTOCOLS)[number];

export const BROWSER_LABELS: Record<BrowserProtocol, string> = {
  rest: "REST",
  "connect-json": "Connect JSON",
  "connect-binary": "Connect binary",
  "grpc-web": "gRPC-Web",
  graphql: "GraphQL",
};

/** Row ids: `browser-<protocol>` (Chromium) and `browser-<protocol>-node` (Node). */
export const browserRowId = (p: BrowserProtocol, side: "chromium" | "node") => (side === "chromium" ? `browser-${p}` : `browser-${p}-node`);

const REST_PATH = "/v2/models/iris/infer";
const GRAPHQL_PATH = "/graphql";
const NO_STORE = { "cache-control": "no-store" };
/** Calls per page.evaluate: the time cap is checked between chunks (only the calls are timed, never the chunk boundaries). */
const CHUNK = 50;
const CALL_TIMEOUT_MS = 10_000;

const BYTES_METHOD_PAGE =
  "page's metered fetch: request = byte length of the body handed to fetch, response = arrayBuffer() length; bodies only, no headers";
const BYTES_METHOD_FETCH = "request = byte length of the body handed to fetch, response = arrayBuffer() length; bodies only, no headers";
const BYTES_METHOD_NODE_HTTP =
  "node:http bodies under the connect-node client: request = chunks written to the ClientRequest, response = chunks read from the IncomingMessage after HTTP/1.1 framing and content decoding (as a browser's fetch reports it); bodies only, no headers";

// ---------------------------------------------------------------- body meter

type Writer = (this: http.ClientRequest, chunk?: unknown, ...rest: unknown[]) => unknown;

function chunkBytes(chunk: unknown): number {
  if (typeof chunk === "string") return Buffer.byteLength(chunk);
  if (chunk instanceof Uint8Array) return chunk.byteLength;
  return 0;
}

/**
 * Counts the body bytes of connect-node's HTTP/1.1 calls to one path.
 * connect-node owns its `http.request`, and edgeClient takes no Node options,
 * so while metering, ClientRequest's `write`/`end` are wrapped (restored by
 * `stop`) for requests to that path; on such a request's first body chunk the
 * response's async iterator (which connect-node reads the body through) is
 * wrapped too. Calls are sequential, so the counts belong to one call.
 */
class BodyMeter {
  request = 0;
  /** Response body chunks as read (still content-encoded, when the edge compressed them). */
  responseChunks: Buffer[] = [];
  /** The response's content-encoding, if any. */
  encoding: string | undefined;
  /** The bytes of the last request body, for the "same body as the page" check. */
  lastRequest: Buffer[] = [];
  private saved: { write: Writer; end: Writer } | undefined;
  private readonly seen = new WeakSet<http.ClientRequest>();

  constructor(private readonly path: string) {}

  reset(): void {
    this.request = 0;
    this.responseChunks = [];
    this.encoding = undefined;
    this.lastRequest = [];
  }

  /** Response body bytes on the wire (after HTTP/1.1 framing, before content decoding). */
  get responseWire(): number {
    return this.responseChunks.reduce((s, c) => s + c.byteLength, 0);
  }

  /**
   * Response body bytes as a browser's fetch reports them: after content
   * decoding (connect-node asks for gzip/br and decodes itself; the page's
   * arrayBuffer() is already decoded). Computed after the call, untimed.
   */
  responseDecoded(): number {
    const body = Buffer.concat(this.responseChunks);
    const encoding = (this.encoding ?? "identity").trim().toLowerCase();
    if (encoding === "identity" || body.byteLength === 0) return body.byteLength;
    if (encoding === "gzip" || encoding === "x-gzip") return gunzipSync(body).byteLength;
    if (encoding === "br") return brotliDecompressSync(body).byteLength;
    if (encoding === "deflate") return inflateSync(body).byteLength;
    throw new Error(`unknown content-encoding ${encoding}`);
  }

  start(): void {
    if (this.saved) return;
    const proto = http.ClientRequest.prototype as unknown as { write: Writer; end: Writer };
    const saved = { write: proto.write, end: proto.end };
    this.saved = saved;
    const meter = this;
    proto.write = function (this: http.ClientRequest, chunk?: unknown, ...rest: unknown[]) {
      meter.count(this, chunk);
      return saved.write.call(this, chunk, ...rest);
    };
    proto.end = function (this: http.ClientRequest, chunk?: unknown, ...rest: unknown[]) {
      if (typeof chunk !== "function") meter.count(this, chunk);
      return saved.end.call(this, chunk, ...rest);
    };
  }

  stop(): void {
    if (!this.saved) return;
    const proto = http.ClientRequest.prototype as unknown as { write: Writer; end: Writer };
    proto.write = this.saved.write;
    proto.end = this.saved.end;
    this.saved = undefined;
  }

  private count(request: http.ClientRequest, chunk: unknown): void {
    if (request.path !== this.path) return;
    if (!this.seen.has(request)) {
      this.seen.add(request);
      this.lastRequest = [];
      request.prependListener("response", (response: http.IncomingMessage) => this.wrapResponse(response));
    }
    const n = chunkBytes(chunk);
    if (n > 0) {
      this.request += n;
      this.lastRequest.push(typeof chunk === "string" ? Buffer.from(chunk) : Buffer.from(chunk as Uint8Array));
    }
  }

  private wrapResponse(response: http.IncomingMessage): void {
    const encoding = response.headers["content-encoding"];
    this.encoding = Array.isArray(encoding) ? encoding.join(",") : encoding;
    const original = response[Symbol.asyncIterator].bind(response);
    const meter = this;
    response[Symbol.asyncIterator] = function () {
      const inner = original();
      const wrapped = {
        async next() {
          const r = await inner.next();
          if (!r.done && chunkBytes(r.value) > 0) meter.responseChunks.push(Buffer.from(r.value as Uint8Array));
          return r;
        },
        return: (value?: unknown) => (inner.return ? inner.return(value) : Promise.resolve({ done: true as const, value })),
        throw: (error?: unknown) => (inner.throw ? inner.throw(error) : Promise.reject(error)),
        [Symbol.asyncIterator]() {
          return wrapped;
        },
      };
      return wrapped as unknown as ReturnType<typeof original>;
    };
  }
}

// ---------------------------------------------------------------- sides

interface Outcome {
  ok: boolean;
  latencyMs: number;
  requestBytes: number;
  responseBytes: number;
  /** Error code or HTTP status when not ok. */
  error?: string;
}

interface SideResult {
  latenciesMs: number[];
  requestBytes: number[];
  responseBytes: number[];
  errors: Record<string, number>;
  /** Set when the time cap cut the loop short. */
  capped?: boolean;
}

/** What the page's benchmark hook returns (playground/src/app.ts, BenchResult). */
interface PageBenchResult {
  latenciesMs: number[];
  requestBytes: number[];
  responseBytes: number[];
  errors: Record<string, number>;
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${Math.round(ms / 1000)} s`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** n calls of the page's hook, in chunks, stopping at the deadline (checked between chunks). */
async function pageCalls(page: Page, protocol: BrowserProtocol, n: number, maxSeconds: number): Promise<SideResult> {
  const out: SideResult = { latenciesMs: [], requestBytes: [], responseBytes: [], errors: {} };
  const deadline = performance.now() + maxSeconds * 1000;
  while (out.latenciesMs.length < n) {
    const left = deadline - performance.now();
    if (left <= 0) {
      out.capped = true;
      break;
    }
    const count = Math.min(CHUNK, n - out.latenciesMs.length);
    const r = await withTimeout(
      page.evaluate(
        ([p, k]) => (globalThis as unknown as { gatewayBench(p: string, n: number, o: { bypassCache: boolean }): Promise<PageBenchResult> }).gatewayBench(p, k, { bypassCache: true }),
        [protocol, count] as const,
      ),
      left + CALL_TIMEOUT_MS,
      `gatewayBench(${protocol}, ${count})`,
    );
    if (r.latenciesMs.length === 0) throw new Error(`gatewayBench(${protocol}) made no call`);
    out.latenciesMs.push(...r.latenciesMs);
    out.requestBytes.push(...r.requestBytes);
    out.responseBytes.push(...r.responseBytes);
    for (const [code, k] of Object.entries(r.errors)) out.errors[code] = (out.errors[code] ?? 0) + k;
  }
  return out;
}

/** n sequential Node calls, each timed on its own, stopping at the deadline. */
async function nodeCalls(call: () => Promise<Outcome>, n: number, maxSeconds: number): Promise<SideResult> {
  const out: SideResult = { latenciesMs: [], requestBytes: [], responseBytes: [], errors: {} };
  const deadline = performance.now() + maxSeconds * 1000;
  for (let i = 0; i < n; i++) {
    if (performance.now() >= deadline) {
      out.capped = true;
      break;
    }
    const r = await call();
    out.latenciesMs.push(r.latencyMs);
    out.requestBytes.push(r.requestBytes);
    out.responseBytes.push(r.responseBytes);
    if (!r.ok) out.errors[r.error ?? "unknown"] = (out.errors[r.error ?? "unknown"] ?? 0) + 1;
  }
  return out;
}

/** One fetch exactly as the page makes it: body string in, whole body read and parsed, timed around all of it. */
async function fetchCall(url: string, body: string, headers: Record<string, string>, check: (json: unknown) => boolean): Promise<Outcome> {
  const requestBytes = Buffer.byteLength(body);
  const t0 = performance.now();
  try {
    const response = await fetch(url, { method: "POST", headers, body, signal: AbortSignal.timeout(CALL_TIMEOUT_MS) });
    const buffer = await response.arrayBuffer();
    let json: unknown;
    try {
      json = JSON.parse(new TextDecoder().decode(buffer));
    } catch {
      json = undefined;
    }
    const latencyMs = performance.now() - t0;
    const ok = response.status === 200 && check(json);
    return { ok, latencyMs, requestBytes, responseBytes: buffer.byteLength, ...(ok ? {} : { error: `http_${response.status}` }) };
  } catch (error) {
    return { ok: false, latencyMs: performance.now() - t0, requestBytes, responseBytes: 0, error: (error as Error).name || "error" };
  }
}

const restOk = (json: unknown) => Array.isArray((json as { outputs?: unknown } | undefined)?.outputs) && (json as { outputs: unknown[] }).outputs.length > 0;
const graphqlOk = (json: unknown) => {
  const j = json as { errors?: unknown[]; data?: { infer?: { outputs?: unknown[] } | null } } | undefined;
  return !j?.errors?.length && (j?.data?.infer?.outputs?.length ?? 0) > 0;
};

async function connectCall(client: InferenceClient, request: ModelInferRequest, meter: BodyMeter): Promise<Outcome> {
  meter.reset();
  const t0 = performance.now();
  try {
    const response = await client.modelInfer(request, { signal: AbortSignal.timeout(CALL_TIMEOUT_MS) });
    const latencyMs = performance.now() - t0;
    const ok = response.outputs.length > 0;
    return { ok, latencyMs, requestBytes: meter.request, responseBytes: meter.responseDecoded(), ...(ok ? {} : { error: "no_outputs" }) };
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    return { ok: false, latencyMs: performance.now() - t0, requestBytes: meter.request, responseBytes: meter.responseWire, error: typeof code === "number" ? `connect_${code}` : "error" };
  }
}

// ---------------------------------------------------------------- rows

function bodies(side: SideResult, method: string): BodyBytes | undefined {
  const n = side.requestBytes.length;
  if (n === 0) return undefined;
  const totals = side.requestBytes.map((b, i) => b + (side.responseBytes[i] ?? 0));
  const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
  return { calls: n, request: mean(side.requestBytes), response: mean(side.responseBytes), minTotal: Math.min(...totals), maxTotal: Math.max(...totals), method };
}

function toRow(base: Row, side: SideResult, tool: string, method: string, config: BenchConfig): Row {
  const errorCount = Object.values(side.errors).reduce((s, v) => s + v, 0);
  const notes = [...(base.notes ?? [])];
  if (errorCount > 0) notes.push(`errors: ${Object.entries(side.errors).map(([k, v]) => `${k} x${v}`).join(", ")}`);
  if (side.capped) notes.push(`time cap ${config.browserMaxSeconds} s hit after ${side.latenciesMs.length} of ${config.browserCalls} calls`);
  const b = bodies(side, method);
  if (b && b.minTotal !== b.maxTotal) notes.push(`bytes/call varied ${b.minTotal}-${b.maxTotal}`);
  return {
    ...base,
    latency: { tool, summary: summarize(side.latenciesMs.map((ms) => ms * 1000)), errors: errorCount },
    ...(b ? { bodies: b } : {}),
    notes,
  };
}

interface Probe {
  /** The body of the page's call, exactly as it went out. */
  body?: Buffer;
  xCache?: string;
  status?: number;
  /** The page's error codes, when the probe call failed. */
  errors?: string;
}

const sameBytes = (a: Uint8Array | undefined, b: Uint8Array | undefined) => a !== undefined && b !== undefined && Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;

// ---------------------------------------------------------------- scenario

export async function browserScenario(config: BenchConfig, rows: Row[], hooks: ScenarioHooks): Promise<void> {
  const wanted = BROWSER_PROTOCOLS.filter(
    (p) => selected(config, browserRowId(p, "chromium"), "browser") || (config.only?.has(browserRowId(p, "node")) ?? false),
  );
  if (wanted.length === 0) return;
  const { progress } = hooks;
  const row = (p: BrowserProtocol, side: "chromium" | "node"): Row => ({
    scenario: "browser",
    id: browserRowId(p, side),
    label: `${BROWSER_LABELS[p]} (${side === "chromium" ? "Chromium" : "Node"})`,
  });

  let worker: WorkerHandle | undefined;
  let edge: EdgeHandle | undefined;
  let browser: Browser | undefined;
  const stopAll = async () => {
    await browser?.close().catch(() => undefined);
    browser = undefined;
    await edge?.dispose().catch(() => undefined);
    edge = undefined;
    await worker?.stop().catch(() => undefined);
    worker = undefined;
  };
  hooks.onCleanup(stopAll);
  const t0 = performance.now();
  try {
    // The assets the edge serves and the bundle, both fresh (wrangler needs the assets folder to exist).
    progress("browser: building the playground and the edge bundle");
    const built = await runTool(process.execPath, ["--import", "tsx", "playground/build.ts"], 120_000, { cwd: ROOT });
    if (built.code !== 0) throw new Error(`playground build failed (${built.code}): ${built.stderr.slice(-500)}`);
    await buildEdge();

    progress(`browser: starting worker (BATCHING=${config.irisBatching ?? "worker default"}), edge (Miniflare, assets + Worker), Chromium`);
    worker = await startBenchWorker(config.irisBatching);
    edge = await startEdge({ WORKER_URLS: worker.url, ...config.edgeVars }, { assets: true });
    browser = await launchBrowser();
    const page = await browser.newPage();
    const pageErrors: string[] = [];
    page.on("pageerror", (error) => pageErrors.push(error.message));
    await page.goto(`${edge.url}/`, { timeout: 20_000 });
    await page.waitForSelector("body[data-ready=true]", { timeout: 20_000 });
    if (pageErrors.length) throw new Error(`the playground threw: ${pageErrors.join("; ")}`);
    // The bench's iris body (3 rows of 4 FP32) in the page's JSON editor: every protocol sends it.
    const bodyText = JSON.stringify(irisRestBody());
    await page.evaluate((text) => {
      const doc = (globalThis as unknown as { document: { getElementById(id: string): { value: string } | null } }).document;
      const editor = doc.getElementById("json");
      if (!editor) throw new Error("#json missing");
      editor.value = text;
    }, bodyText);
    const isolated = await page.evaluate(() => (globalThis as unknown as { crossOriginIsolated?: boolean }).crossOriginIsolated === true);
    const chromiumTool =
      `Chromium ${browser.version()} (${CHROMIUM}, headless, driven by playwright-core): the page's gatewayBench, fetch for REST/GraphQL and connect-web for Connect/gRPC-Web, ` +
      `timed by the page's performance.now() (${isolated ? "5 µs" : "100 µs"} resolution: the page is ${isolated ? "" : "not "}cross-origin isolated)`;

    // Probe: one call per protocol from the page, capturing the body it sent and the x-cache it got.
    const probes = new Map<BrowserProtocol, Probe>();
    let probing: BrowserProtocol | undefined;
    const callPath = (url: string) => {
      const path = new URL(url).pathname;
      return path === REST_PATH || path === GRAPHQL_PATH || path === MODEL_INFER_PATH;
    };
    const onRequest = (request: PwRequest) => {
      if (!probing || request.method() !== "POST" || !callPath(request.url())) return;
      const probe = probes.get(probing) ?? {};
      probe.body ??= request.postDataBuffer() ?? undefined;
      probes.set(probing, probe);
    };
    const onResponse = (response: PwResponse) => {
      if (!probing || !callPath(response.url())) return;
      const probe = probes.get(probing) ?? {};
      probe.xCache = response.headers()["x-cache"] ?? "(none)";
      probe.status = response.status();
      probes.set(probing, probe);
    };
    page.on("request", onRequest);
    page.on("response", onResponse);
    progress("browser: one probe call per protocol from the page");
    for (const p of BROWSER_PROTOCOLS) {
      probing = p;
      const r = await pageCalls(page, p, 1, config.browserMaxSeconds);
      // Playwright delivers network events asynchronously: let the response event land.
      for (let i = 0; i < 50 && probes.get(p)?.status === undefined; i++) await new Promise((resolve) => setTimeout(resolve, 10));
      if (Object.keys(r.errors).length) probes.set(p, { ...probes.get(p), errors: JSON.stringify(r.errors) });
    }
    probing = undefined;
    page.off("request", onRequest);
    page.off("response", onResponse);

    // Node's Connect message: the one the page encoded (its Connect binary body), so both sides send the same request.
    const pageBinary = probes.get("connect-binary")?.body;
    let request: ModelInferRequest;
    let requestNote = "";
    try {
      if (!pageBinary) throw new Error("no Connect binary body captured");
      request = fromBinary(ModelInferRequestSchema, pageBinary);
    } catch (error) {
      request = irisRequest();
      requestNote = `message from irisRequest() (${message(error)})`;
    }

    const meter = new BodyMeter(MODEL_INFER_PATH);
    const clients = new Map<EdgeProtocol, InferenceClient>();
    const clientFor = (p: EdgeProtocol) => {
      let c = clients.get(p);
      if (!c) clients.set(p, (c = edgeClient(edge!.url, p, NO_STORE)));
      return c;
    };

    for (const p of wanted) {
      const probe = probes.get(p) ?? {};
      const cRow = row(p, "chromium");
      const nRow = row(p, "node");
      const common = [`x-cache ${probe.xCache ?? "?"}`];

      // Chromium: warm-up, then the measured calls.
      await hooks.attempt(rows, cRow, async () => {
        if (probe.status !== 200 || probe.errors) throw new Error(`the page's probe call answered ${probe.status ?? "nothing"}${probe.errors ? `, errors ${probe.errors}` : ""}`);
        progress(`  browser-${p}: Chromium, ${config.browserWarmupCalls} warm-up + ${config.browserCalls} calls`);
        if (config.browserWarmupCalls > 0) await pageCalls(page, p, config.browserWarmupCalls, config.browserMaxSeconds);
        const side = await pageCalls(page, p, config.browserCalls, config.browserMaxSeconds);
        cRow.notes = [...common];
        return toRow(cRow, side, chromiumTool, BYTES_METHOD_PAGE, config);
      });

      // Node: the same calls, warm-up first.
      await hooks.attempt(rows, nRow, async () => {
        let call: () => Promise<Outcome>;
        let tool: string;
        let method: string;
        const notes: string[] = [];
        if (p === "rest" || p === "graphql") {
          const sent = probe.body?.toString("utf8");
          const body = sent ?? (p === "rest" ? bodyText : undefined);
          if (body === undefined) throw new Error("the page's GraphQL body was not captured");
          notes.push(sent ? "same body bytes as the page" : "body = irisRestBody() (page body not captured)");
          // The page's headers for this protocol (playground/src/calls.ts), cache bypass included.
          const headers: Record<string, string> =
            p === "rest"
              ? { "content-type": "application/json", ...NO_STORE }
              : { "content-type": "application/json", accept: "application/graphql-response+json, application/json", ...NO_STORE };
          const url = `${edge!.url}${p === "rest" ? REST_PATH : GRAPHQL_PATH}`;
          call = () => fetchCall(url, body, headers, p === "rest" ? restOk : graphqlOk);
          tool = "Node fetch (undici, keep-alive)";
          method = BYTES_METHOD_FETCH;
          // x-cache as Node sees it.
          const check = await fetch(url, { method: "POST", headers, body, signal: AbortSignal.timeout(CALL_TIMEOUT_MS) });
          await check.arrayBuffer();
          notes.unshift(`x-cache ${check.headers.get("x-cache") ?? "(none)"}`);
          const encoding = check.headers.get("content-encoding");
          if (encoding) notes.push(`response ${encoding} on the wire (counted decoded)`);
          if (check.status !== 200) throw new Error(`Node's check call answered ${check.status}`);
        } else {
          const client = clientFor(p);
          let xCache: string | null = null;
          meter.start();
          try {
            meter.reset();
            await client.modelInfer(request, { signal: AbortSignal.timeout(CALL_TIMEOUT_MS), onHeader: (h) => (xCache = h.get("x-cache")) });
            const sentBody = meter.lastRequest.length ? Buffer.concat(meter.lastRequest) : undefined;
            notes.push(`x-cache ${xCache ?? "(none)"}`);
            if (requestNote) notes.push(requestNote);
            notes.push(sameBytes(sentBody, probe.body) ? "same request body bytes as the page" : `request body differs from the page's (${sentBody?.byteLength ?? "?"} vs ${probe.body?.byteLength ?? "?"} B)`);
            if (meter.encoding) notes.push(`response ${meter.encoding}: ${meter.responseWire} B on the wire, ${meter.responseDecoded()} B decoded (counted decoded)`);
          } finally {
            meter.stop();
          }
          call = async () => {
            meter.start();
            try {
              return await connectCall(client, request, meter);
            } finally {
              meter.stop();
            }
          };
          tool = `connect-node ${p === "grpc-web" ? "createGrpcWebTransport" : "createConnectTransport"} (HTTP/1.1, test/support/clients.ts)`;
          method = BYTES_METHOD_NODE_HTTP;
        }
        progress(`  browser-${p}-node: Node, ${config.browserWarmupCalls} warm-up + ${config.browserCalls} calls`);
        if (config.browserWarmupCalls > 0) await nodeCalls(call, config.browserWarmupCalls, config.browserMaxSeconds);
        const side = await nodeCalls(call, config.browserCalls, config.browserMaxSeconds);
        nRow.notes = notes;
        return toRow(nRow, side, tool, method, config);
      });
    }

    progress(`browser: done in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  } catch (error) {
    console.error("[bench] browser scenario failed:", error);
    const have = new Set(rows.filter((r) => r.scenario === "browser").map((r) => r.id));
    for (const p of wanted) {
      for (const side of ["chromium", "node"] as const) if (!have.has(browserRowId(p, side))) rows.push(skippedRow(row(p, side), message(error)));
    }
  } finally {
    await stopAll();
  }
}

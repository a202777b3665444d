// Native load generators, so the figures measure the server and not a Node
// client sharing the 2 cores with it:
//   h2load (nghttp2) for HTTP/2 (h2c) POSTs of a prebuilt body,
//   wrk (with a generated Lua script) for HTTP/1.1 POSTs,
//   autocannon (Node) as the HTTP/1.1 fallback when wrk is absent.
// Every run is bounded in time (the tool's own duration plus a kill timer)
// and latency runs are also bounded in count.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runTool } from "./proc.js";
import { summarize } from "./stats.js";
import type { LatencyResult, ThroughputResult } from "./types.js";

export interface PostTarget {
  url: string;
  /** Request body, written once to a file the tools read. */
  body: Uint8Array;
  headers: Record<string, string>;
}

export interface LatencyRun {
  requests: number;
  warmupRequests: number;
  maxSeconds: number;
}

export interface ThroughputRun {
  concurrency: number;
  seconds: number;
  warmupSeconds: number;
}

let scratch: string | undefined;
/** A private temp folder for bodies, scripts and logs of this bench run. */
export function scratchDir(): string {
  scratch ??= mkdtempSync(join(tmpdir(), "bench-"));
  return scratch;
}

/** Deletes the scratch folder (h2load logs can reach megabytes); BENCH_KEEP_SCRATCH=1 keeps it for debugging. */
export function removeScratch(): void {
  if (!scratch) return;
  if (process.env.BENCH_KEEP_SCRATCH === "1") console.error(`[bench] scratch kept at ${scratch}`);
  else rmSync(scratch, { recursive: true, force: true });
  scratch = undefined;
}

let counter = 0;
function scratchFile(name: string, content: string | Uint8Array): string {
  const path = join(scratchDir(), `${++counter}-${name}`);
  writeFileSync(path, content);
  return path;
}

export function toolAvailable(path: string): boolean {
  return existsSync(path);
}

export const H2LOAD = process.env.BENCH_H2LOAD ?? "/usr/bin/h2load";
export const WRK = process.env.BENCH_WRK ?? "/usr/bin/wrk";

// ---------------------------------------------------------------- h2load

function h2loadArgs(target: PostTarget, bodyFile: string): string[] {
  const args = ["-d", bodyFile];
  for (const [k, v] of Object.entries(target.headers)) args.push("-H", `${k}: ${v}`);
  return args;
}

/** h2load's --log-file: start µs since epoch, HTTP status, µs to end of response. */
function readH2loadLog(path: string): { startUs: number; status: number; durationUs: number }[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((line) => {
      const [start, status, duration] = line.split("\t");
      return { startUs: Number(start), status: Number(status), durationUs: Number(duration) };
    });
}

function h2loadFailure(what: string, out: { code: number | null; stdout: string; stderr: string; timedOut: boolean }): Error {
  return new Error(`${what}: h2load exited ${out.code}${out.timedOut ? " (timed out)" : ""}\n${out.stdout.slice(-1500)}\n${out.stderr.slice(-1500)}`);
}

export async function h2loadLatency(target: PostTarget, run: LatencyRun): Promise<LatencyResult> {
  const bodyFile = scratchFile("body.bin", target.body);
  const common = [...h2loadArgs(target, bodyFile), "-c", "1", "-m", "1", "-t", "1"];
  if (run.warmupRequests > 0) {
    const warm = await runTool(H2LOAD, [...common, "-n", String(run.warmupRequests), target.url], run.maxSeconds * 1000);
    if (warm.code !== 0) throw h2loadFailure("warm-up", warm);
  }
  const log = join(scratchDir(), `${++counter}-h2load.log`);
  const out = await runTool(H2LOAD, [...common, "-n", String(run.requests), `--log-file=${log}`, target.url], run.maxSeconds * 1000);
  const entries = readH2loadLog(log);
  if (entries.length === 0) throw h2loadFailure("latency run", out);
  const ok = entries.filter((e) => e.status === 200);
  return {
    tool: "h2load -c1 -m1 (h2c)",
    summary: summarize(ok.map((e) => e.durationUs)),
    errors: entries.length - ok.length + Math.max(0, run.requests - entries.length),
  };
}

export async function h2loadThroughput(target: PostTarget, run: ThroughputRun, connections: number): Promise<ThroughputResult> {
  const bodyFile = scratchFile("body.bin", target.body);
  const clients = Math.max(1, Math.min(connections, run.concurrency));
  const streams = Math.ceil(run.concurrency / clients);
  const log = join(scratchDir(), `${++counter}-h2load.log`);
  const args = [...h2loadArgs(target, bodyFile), "-c", String(clients), "-m", String(streams), "-t", "1", "-D", String(run.seconds), `--log-file=${log}`];
  if (run.warmupSeconds > 0) args.push(`--warm-up-time=${run.warmupSeconds}`);
  args.push(target.url);
  const out = await runTool(H2LOAD, args, (run.seconds + run.warmupSeconds + 15) * 1000);
  // "finished in" includes the warm-up; its req/s is over the main duration only.
  const finished = /finished in [\d.]+m?s, ([\d.]+) req\/s/.exec(out.stdout);
  const codes = /status codes: (\d+) 2xx/.exec(out.stdout);
  const requestsLine = /requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored/.exec(out.stdout);
  if (!finished || !codes || !requestsLine) throw h2loadFailure("throughput run", out);
  const done = Number(requestsLine[3]);
  // "succeeded" (status < 400) and "failed" split the done requests; the
  // per-class status tally can miss the few that finish as the run stops.
  const ok = Number(codes[1]) === 0 ? 0 : Number(requestsLine[4]);
  const failed = Number(requestsLine[5]);
  const seconds = Number(finished[1]) > 0 ? done / Number(finished[1]) : run.seconds;
  // The log holds warm-up requests too; keep those that started in the
  // measured window (the last `seconds` of the run).
  const entries = readH2loadLog(log).filter((e) => e.status === 200);
  const lastStart = entries.reduce((m, e) => Math.max(m, e.startUs), 0);
  const windowed = entries.filter((e) => e.startUs >= lastStart - seconds * 1e6);
  const summary = summarize(windowed.map((e) => e.durationUs));
  return {
    tool: `h2load -c${clients} -m${streams} (h2c)`,
    concurrency: clients * streams,
    seconds,
    requests: ok,
    errors: failed,
    rps: ok / seconds,
    p50Us: summary.p50Us,
    p99Us: summary.p99Us,
  };
}

// ---------------------------------------------------------------- wrk

/**
 * A wrk script that POSTs the body file with the headers, optionally stops
 * the (single) thread after `limit` responses, and prints the figures as one
 * JSON line from done() (µs straight from wrk's histogram, not its rounded text).
 */
function wrkScript(target: PostTarget, bodyFile: string, limit: number): string {
  const lua = (s: string) => JSON.stringify(s); // JSON string escapes are valid Lua for these ASCII values
  const headers = Object.entries(target.headers)
    .map(([k, v]) => `wrk.headers[${lua(k)}] = ${lua(v)}`)
    .join("\n");
  return `-- generated by bench/lib/tools.ts
local f = assert(io.open(${lua(bodyFile)}, "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
${headers}
local limit = ${limit}
local count = 0
if limit > 0 then
  -- Defining response() costs a little per request, so only latency runs do.
  function response(status, headers, body)
    count = count + 1
    if count == limit then
      wrk.thread:stop()
      -- wrk's main thread sleeps out the whole -d; this line lets the bench interrupt it.
      io.write("BENCH_LIMIT_REACHED\\n")
      io.flush()
    end
  end
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"durationUs":%d,"requests":%d,"status":%d,"connect":%d,"read":%d,"write":%d,"timeout":%d,"p50":%d,"p90":%d,"p99":%d,"min":%d,"max":%d,"mean":%f}\\n',
    summary.duration, summary.requests, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.min, latency.max, latency.mean))
end
`;
}

interface WrkFigures {
  durationUs: number;
  requests: number;
  status: number;
  connect: number;
  read: number;
  write: number;
  timeout: number;
  p50: number;
  p90: number;
  p99: number;
  min: number;
  max: number;
  mean: number;
}

async function wrk(target: PostTarget, connections: number, seconds: number, limit: number): Promise<WrkFigures> {
  const script = scratchFile("wrk.lua", wrkScript(target, scratchFile("body.bin", target.body), limit));
  const args = ["-t", "1", "-c", String(connections), "-d", `${Math.max(1, Math.ceil(seconds))}s`, "--timeout", "10s", "-s", script, target.url];
  const out = await runTool(WRK, args, (Math.ceil(seconds) + 15) * 1000, { interruptOn: "BENCH_LIMIT_REACHED" });
  const line = out.stdout.split("\n").find((l) => l.startsWith("BENCH_JSON "));
  if (!line) throw new Error(`wrk exited ${out.code}${out.timedOut ? " (timed out)" : ""}\n${out.stdout.slice(-1500)}\n${out.stderr.slice(-1500)}`);
  return JSON.parse(line.slice("BENCH_JSON ".length)) as WrkFigures;
}

function wrkErrors(f: WrkFigures): number {
  return f.status + f.connect + f.read + f.write + f.timeout;
}

export async function wrkLatency(target: PostTarget, run: LatencyRun): Promise<LatencyResult> {
  // wrk needs whole seconds; the count limit ends the run long before that.
  if (run.warmupRequests > 0) await wrk(target, 1, run.maxSeconds, run.warmupRequests);
  const f = await wrk(target, 1, run.maxSeconds, run.requests);
  return {
    tool: "wrk -t1 -c1 (HTTP/1.1)",
    summary: { count: f.requests - f.status, minUs: f.min, p50Us: f.p50, p90Us: f.p90, p99Us: f.p99, maxUs: f.max, meanUs: f.mean },
    errors: wrkErrors(f),
  };
}

export async function wrkThroughput(target: PostTarget, run: ThroughputRun): Promise<ThroughputResult> {
  if (run.warmupSeconds > 0) await wrk(target, run.concurrency, run.warmupSeconds, 0);
  const f = await wrk(target, run.concurrency, run.seconds, 0);
  const seconds = f.durationUs / 1e6;
  const ok = f.requests - f.status;
  return {
    tool: `wrk -t1 -c${run.concurrency} (HTTP/1.1)`,
    concurrency: run.concurrency,
    seconds,
    requests: ok,
    errors: wrkErrors(f),
    rps: ok / seconds,
    p50Us: f.p50,
    p99Us: f.p99,
  };
}

// ---------------------------------------------------------------- autocannon

const AUTOCANNON = join(process.cwd(), "node_modules/autocannon/autocannon.js");

interface AutocannonJson {
  duration: number;
  "2xx": number;
  non2xx: number;
  errors: number;
  timeouts: number;
  latency: { p50: number; p90: number; p99: number; min: number; max: number; mean: number };
  requests: { total: number };
}

/** autocannon runs in its own Node process so it never shares an event loop with the bench. */
async function autocannon(target: PostTarget, connections: number, bound: { seconds: number; amount?: number }): Promise<AutocannonJson> {
  const args = [AUTOCANNON, "-j", "-c", String(connections), "-m", "POST", "-i", scratchFile("body.bin", target.body)];
  for (const [k, v] of Object.entries(target.headers)) args.push("-H", `${k}=${v}`);
  args.push(...(bound.amount ? ["-a", String(bound.amount)] : ["-d", String(Math.max(1, Math.round(bound.seconds)))]));
  args.push(target.url);
  const out = await runTool(process.execPath, args, (bound.seconds + 15) * 1000);
  try {
    return JSON.parse(out.stdout) as AutocannonJson;
  } catch {
    throw new Error(`autocannon exited ${out.code}\n${out.stdout.slice(-1500)}\n${out.stderr.slice(-1500)}`);
  }
}

export async function autocannonLatency(target: PostTarget, run: LatencyRun): Promise<LatencyResult> {
  if (run.warmupRequests > 0) await autocannon(target, 1, { seconds: run.maxSeconds, amount: run.warmupRequests });
  const j = await autocannon(target, 1, { seconds: run.maxSeconds, amount: run.requests });
  // autocannon reports milliseconds.
  const us = (ms: number) => ms * 1000;
  return {
    tool: "autocannon -c1 (HTTP/1.1)",
    summary: { count: j["2xx"], minUs: us(j.latency.min), p50Us: us(j.latency.p50), p90Us: us(j.latency.p90), p99Us: us(j.latency.p99), maxUs: us(j.latency.max), meanUs: us(j.latency.mean) },
    errors: j.non2xx + j.errors + j.timeouts,
  };
}

export async function autocannonThroughput(target: PostTarget, run: ThroughputRun): Promise<ThroughputResult> {
  if (run.warmupSeconds > 0) await autocannon(target, run.concurrency, { seconds: run.warmupSeconds });
  const j = await autocannon(target, run.concurrency, { seconds: run.seconds });
  return {
    tool: `autocannon -c${run.concurrency} (HTTP/1.1)`,
    concurrency: run.concurrency,
    seconds: j.duration,
    requests: j["2xx"],
    errors: j.non2xx + j.errors + j.timeouts,
    rps: j["2xx"] / j.duration,
    p50Us: j.latency.p50 * 1000,
    p99Us: j.latency.p99 * 1000,
  };
}

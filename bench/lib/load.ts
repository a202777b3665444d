// In-process load loops for targets without a native generator (the
// session.run floor, the connect-node and grpc-js clients). Both loops are
// bounded twice, by request count and by wall time, so a stuck target can
// never hang the bench.
import { summarize } from "./stats.js";
import type { LatencyResult, ThroughputResult } from "./types.js";

export type Call = () => Promise<unknown>;

export interface SequentialOptions {
  requests: number;
  warmupRequests: number;
  maxSeconds: number;
  tool: string;
}

/** Concurrency 1: one call at a time, each timed on its own. */
export async function sequential(call: Call, options: SequentialOptions): Promise<LatencyResult> {
  const warmDeadline = performance.now() + options.maxSeconds * 1000;
  for (let i = 0; i < options.warmupRequests && performance.now() < warmDeadline; i++) await call();
  const samples = new Float64Array(options.requests);
  let n = 0;
  let errors = 0;
  const deadline = performance.now() + options.maxSeconds * 1000;
  while (n < options.requests && performance.now() < deadline) {
    const t0 = performance.now();
    try {
      await call();
      samples[n++] = (performance.now() - t0) * 1000;
    } catch {
      errors++;
      // A failing target still has to stop: count failures against the budget.
      if (errors > options.requests) break;
    }
  }
  return { tool: options.tool, summary: summarize(samples.subarray(0, n)), errors };
}

export interface ClosedLoopOptions {
  concurrency: number;
  seconds: number;
  warmupSeconds: number;
  /** Upper bound on requests in the measured window (a count bound besides the time bound). */
  maxRequests: number;
  tool: string;
}

/**
 * `concurrency` workers each issue the next call as soon as the previous one
 * ends (closed loop). Calls that finish during warm-up are not counted; the
 * measured window is from the end of warm-up to the last completion.
 */
export async function closedLoop(call: Call, options: ClosedLoopOptions): Promise<ThroughputResult> {
  const start = performance.now();
  const measureFrom = start + options.warmupSeconds * 1000;
  const stopAt = measureFrom + options.seconds * 1000;
  const samples: number[] = [];
  let errors = 0;
  let issued = 0;
  let lastEnd = measureFrom;
  const worker = async () => {
    while (performance.now() < stopAt && issued < options.maxRequests) {
      const t0 = performance.now();
      const measured = t0 >= measureFrom;
      if (measured) issued++;
      try {
        await call();
        const t1 = performance.now();
        if (measured) {
          samples.push((t1 - t0) * 1000);
          lastEnd = t1;
        }
      } catch {
        if (measured) errors++;
        // Back off a little so a dead target does not spin the CPU.
        await new Promise((r) => setTimeout(r, 1));
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  const seconds = Math.max(1e-3, (lastEnd - measureFrom) / 1000);
  const summary = summarize(samples);
  return {
    tool: options.tool,
    concurrency: options.concurrency,
    seconds,
    requests: samples.length,
    errors,
    rps: samples.length / seconds,
    p50Us: summary.p50Us,
    p99Us: summary.p99Us,
  };
}

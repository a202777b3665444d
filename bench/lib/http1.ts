// Picks the HTTP/1.1 load generator: wrk when installed (native, µs
// histogram), else autocannon (Node, 1 ms latency resolution).
import type { BenchConfig } from "./config.js";
import {
  autocannonLatency,
  autocannonThroughput,
  toolAvailable,
  WRK,
  wrkLatency,
  wrkThroughput,
  type LatencyRun,
  type PostTarget,
  type ThroughputRun,
} from "./tools.js";
import type { LatencyResult, ThroughputResult } from "./types.js";

function useWrk(config: BenchConfig): boolean {
  return config.http1Tool === "wrk" && toolAvailable(WRK);
}

export function http1Latency(config: BenchConfig, target: PostTarget, run: LatencyRun): Promise<LatencyResult> {
  return useWrk(config) ? wrkLatency(target, run) : autocannonLatency(target, run);
}

export function http1Throughput(config: BenchConfig, target: PostTarget, run: ThroughputRun): Promise<ThroughputResult> {
  return useWrk(config) ? wrkThroughput(target, run) : autocannonThroughput(target, run);
}

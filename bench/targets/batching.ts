// mlp-wide at high concurrency: the same worker started with BATCHING=on and
// BATCHING=off, driven over Connect/h2c by h2load (64 streams over a few
// connections), single-row requests. Dynamic batching should merge them into
// GEMMs and multiply throughput.
import { create } from "@bufbuild/protobuf";
import { ModelInferRequestSchema, type ModelInferRequest } from "../../gen/inference/grpc_service_pb.js";
import { workerClient } from "../../test/support/clients.js";
import { metricValue, type WorkerHandle } from "../../test/support/worker-process.js";
import type { BenchConfig } from "../lib/config.js";
import { measureRow } from "../lib/row.js";
import { h2loadThroughput } from "../lib/tools.js";
import type { Row } from "../lib/types.js";
import { connectTarget, startBenchWorker } from "./worker.js";

/** Input width from the worker's own metadata (shape [-1, W]). */
export async function mlpWidth(worker: WorkerHandle): Promise<number> {
  const metadata = await workerClient(worker.url, "connect-h2").modelMetadata({ name: "mlp-wide" });
  const shape = metadata.inputs.find((i) => i.name === "input")?.shape.map(Number);
  const width = shape?.[shape.length - 1];
  if (!width || width <= 0) throw new Error(`mlp-wide metadata has no fixed input width: ${JSON.stringify(shape)}`);
  return width;
}

/** A deterministic, non-trivial row (all-zero input would skip nothing but looks suspicious). */
export function mlpRow(width: number): Float32Array {
  return Float32Array.from({ length: width }, (_, i) => Math.sin(i * 0.37) * 0.5);
}

export function mlpRequest(width: number): ModelInferRequest {
  const values = mlpRow(width);
  return create(ModelInferRequestSchema, {
    modelName: "mlp-wide",
    inputs: [{ name: "input", datatype: "FP32", shape: [1n, BigInt(width)] }],
    rawInputContents: [new Uint8Array(values.buffer)],
  });
}

/** Rows per execution and executions, from the worker's histogram. */
async function batchStats(worker: WorkerHandle): Promise<{ rows: number; executions: number }> {
  const text = await worker.metrics();
  return {
    rows: metricValue(text, "worker_inference_batch_size_sum", 'model="mlp-wide"'),
    executions: metricValue(text, "worker_inference_batch_size_count", 'model="mlp-wide"'),
  };
}

export async function batchingRow(config: BenchConfig, row: Row, batching: "on" | "off", progress: (l: string) => void): Promise<Row> {
  const worker = await startBenchWorker(batching);
  try {
    const width = await mlpWidth(worker);
    const request = mlpRequest(width);
    await workerClient(worker.url, "connect-h2").modelInfer(request);
    const before = await batchStats(worker);
    const result = await measureRow(
      row,
      undefined,
      () => h2loadThroughput(connectTarget(worker.url, request), { concurrency: config.batchConcurrency, seconds: config.batchSeconds, warmupSeconds: config.warmupSeconds }, config.h2Connections),
      progress,
    );
    const after = await batchStats(worker);
    const executions = after.executions - before.executions;
    if (executions > 0) result.notes!.push(`W=${width}, ${((after.rows - before.rows) / executions).toFixed(1)} rows per session.run (incl. warm-up)`);
    return result;
  } finally {
    await worker.stop();
  }
}

// Rows that call the GPU worker process (CPU provider here) directly:
//   Connect over h2c timed by h2load (measures the server: native client,
//     prebuilt binary body, no client-side encode per request),
//   Connect over h2c through the connect-node client (what a Node caller sees),
//   gRPC through @grpc/grpc-js (what a Triton/KServe user sees).
import { toBinary } from "@bufbuild/protobuf";
import { ModelInferRequestSchema, type ModelInferRequest } from "../../gen/inference/grpc_service_pb.js";
import { grpcJsClient, grpcUnary, workerClient } from "../../test/support/clients.js";
import { startWorker, type WorkerHandle } from "../../test/support/worker-process.js";
import type { BenchConfig } from "../lib/config.js";
import { closedLoop, sequential } from "../lib/load.js";
import { measureRow } from "../lib/row.js";
import { h2loadLatency, h2loadThroughput, type PostTarget } from "../lib/tools.js";
import type { Row } from "../lib/types.js";

export const MODEL_INFER_PATH = "/inference.GRPCInferenceService/ModelInfer";

export async function startBenchWorker(batching: string | undefined): Promise<WorkerHandle> {
  return startWorker({ env: batching ? { BATCHING: batching } : {} });
}

/** A Connect unary call as raw HTTP: the binary protobuf body and its headers. */
export function connectTarget(baseUrl: string, request: ModelInferRequest): PostTarget {
  return {
    url: `${baseUrl}${MODEL_INFER_PATH}`,
    body: toBinary(ModelInferRequestSchema, request),
    headers: { "content-type": "application/proto", "connect-protocol-version": "1" },
  };
}

/** The same request as @grpc/proto-loader's plain object (keepCase, longs as strings). */
function grpcJsRequest(request: ModelInferRequest): object {
  return {
    model_name: request.modelName,
    model_version: request.modelVersion,
    inputs: request.inputs.map((t) => ({ name: t.name, datatype: t.datatype, shape: t.shape.map(String) })),
    raw_input_contents: request.rawInputContents.map((b) => Buffer.from(b)),
  };
}

interface Plan {
  concurrency: number;
  seconds: number;
  latency: boolean;
}

export async function workerConnectH2load(config: BenchConfig, row: Row, worker: WorkerHandle, request: ModelInferRequest, plan: Plan, progress: (l: string) => void): Promise<Row> {
  const target = connectTarget(worker.url, request);
  // One checked call first, so a broken route shows as an error, not as a fast 404 loop.
  await workerClient(worker.url, "connect-h2").modelInfer(request);
  return measureRow(
    row,
    plan.latency ? () => h2loadLatency(target, { requests: config.requests, warmupRequests: config.warmupRequests, maxSeconds: config.latencyMaxSeconds }) : undefined,
    () => h2loadThroughput(target, { concurrency: plan.concurrency, seconds: plan.seconds, warmupSeconds: config.warmupSeconds }, config.h2Connections),
    progress,
  );
}

export async function workerConnectNode(config: BenchConfig, row: Row, worker: WorkerHandle, request: ModelInferRequest, plan: Plan, progress: (l: string) => void): Promise<Row> {
  const client = workerClient(worker.url, "connect-h2");
  const call = () => client.modelInfer(request);
  await call();
  return measureRow(
    row,
    plan.latency ? () => sequential(call, { requests: config.requests, warmupRequests: config.warmupRequests, maxSeconds: config.latencyMaxSeconds, tool: "connect-node client (h2c, binary)" }) : undefined,
    () => closedLoop(call, { concurrency: plan.concurrency, seconds: plan.seconds, warmupSeconds: config.warmupSeconds, maxRequests: 50_000_000, tool: `connect-node client, ${plan.concurrency} in flight (h2c, 1 conn)` }),
    progress,
  );
}

export async function workerGrpcJs(config: BenchConfig, row: Row, worker: WorkerHandle, request: ModelInferRequest, plan: Plan, progress: (l: string) => void): Promise<Row> {
  const client = grpcJsClient(`127.0.0.1:${worker.port}`);
  const message = grpcJsRequest(request);
  const call = () => grpcUnary(client, "ModelInfer", message);
  try {
    await call();
    return await measureRow(
      row,
      plan.latency ? () => sequential(call, { requests: config.requests, warmupRequests: config.warmupRequests, maxSeconds: config.latencyMaxSeconds, tool: "@grpc/grpc-js client" }) : undefined,
      () => closedLoop(call, { concurrency: plan.concurrency, seconds: plan.seconds, warmupSeconds: config.warmupSeconds, maxRequests: 50_000_000, tool: `@grpc/grpc-js client, ${plan.concurrency} in flight (1 channel)` }),
      progress,
    );
  } finally {
    client.close();
  }
}

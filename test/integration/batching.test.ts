// Pins down dynamic batching on a real worker: concurrent requests merge into
// batches (statistics and metrics show sizes above 1) and each caller still
// gets exactly its own rows back.
import { create } from "@bufbuild/protobuf";
import * as ort from "onnxruntime-node";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ModelInferRequestSchema } from "../../gen/inference/grpc_service_pb.js";
import { workerClient } from "../support/clients.js";
import { MODELS } from "../support/paths.js";
import { plainOutputs } from "../support/tensors.js";
import { startWorker, type WorkerHandle } from "../support/worker-process.js";

let worker: WorkerHandle;
let width: number;

beforeAll(async () => {
  worker = await startWorker();
  const metadata = await workerClient(worker.url, "connect-h2").modelMetadata({ name: "mlp-wide" });
  width = Number(metadata.inputs[0]!.shape[1]);
});

afterAll(async () => {
  await worker?.stop();
});

function row(seed: number): Float32Array {
  return Float32Array.from({ length: width }, (_, i) => Math.sin(seed * 131 + i) * 0.5);
}

describe("dynamic batching", () => {
  it("64 concurrent single-row requests are batched and each gets its own answer", async () => {
    const session = await ort.InferenceSession.create(join(MODELS, "mlp-wide/1/model.onnx"));
    const outputName = session.outputNames[0]!;
    const client = workerClient(worker.url, "connect-h2");
    const n = 64;
    const answers = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        client.modelInfer(
          create(ModelInferRequestSchema, {
            modelName: "mlp-wide",
            inputs: [{ name: "input", datatype: "FP32", shape: [1n, BigInt(width)] }],
            rawInputContents: [new Uint8Array(row(i).buffer)],
          }),
        ),
      ),
    );
    for (let i = 0; i < n; i++) {
      const alone = await session.run({ input: new ort.Tensor("float32", row(i), [1, width]) });
      const expected = Array.from(alone[outputName]!.data as Float32Array);
      const got = plainOutputs(answers[i]!)[0]!.data as number[];
      expect(got.length).toBe(expected.length);
      got.forEach((value, j) => expect(value).toBeCloseTo(expected[j]!, 4));
    }
    await session.release();

    const stats = await client.modelStatistics({ name: "mlp-wide" });
    const batchSizes = stats.modelStats[0]!.batchStats.map((b) => Number(b.batchSize));
    expect(Math.max(...batchSizes)).toBeGreaterThan(1);
    expect(Number(stats.modelStats[0]!.inferenceCount)).toBe(n);
    expect(Number(stats.modelStats[0]!.executionCount)).toBeLessThan(n);

    const metrics = await worker.metrics();
    const bucketAbove1 = metrics
      .split("\n")
      .filter((line) => /batch_size.*_bucket/.test(line) && line.includes("mlp-wide"))
      .some((line) => /le="(\d+)"/.test(line));
    expect(bucketAbove1).toBe(true);
  });
});

// Pins down dynamic batching on a real worker: concurrent requests merge into
// batches (statistics and metrics show sizes above 1) and each caller still
// gets exactly its own rows back, for every datatype (BYTES included).
import { create } from "@bufbuild/protobuf";
import * as ort from "onnxruntime-node";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DATATYPE_INFO, encodeRaw, type Datatype, type TensorValues } from "../../common/oip/index.js";
import { ModelInferRequestSchema } from "../../gen/inference/grpc_service_pb.js";
import { workerClient } from "../support/clients.js";
import { FIXTURE_MODELS, MODELS } from "../support/paths.js";
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

describe("dynamic batching with every datatype (echo fixture)", () => {
  // The echo fixture (Identity per datatype), copied with a long queue delay:
  // queued requests wait for company until 4 rows gather (an event, not a
  // clock), so batches form however slow the machine; the delay only bounds
  // the wait of a last, smaller group.
  let repository: string;
  let echoWorker: WorkerHandle;
  const DATATYPES = Object.keys(DATATYPE_INFO).filter((d) => d !== "BF16") as Exclude<Datatype, "BF16">[];
  const ELEMENTS_PER_ROW = 3;

  beforeAll(async () => {
    repository = mkdtempSync(join(tmpdir(), "echo-batching-"));
    const source = join(FIXTURE_MODELS, "echo");
    const config = JSON.parse(readFileSync(join(source, "config.json"), "utf8"));
    config.dynamic_batching = { max_queue_delay_us: 1_000_000, preferred_batch_sizes: [4, 8], max_queue_size: 64 };
    mkdirSync(join(repository, "echo/1"), { recursive: true });
    writeFileSync(join(repository, "echo/config.json"), JSON.stringify(config));
    copyFileSync(join(source, "1/model.onnx"), join(repository, "echo/1/model.onnx"));
    echoWorker = await startWorker({ repository });
  });

  afterAll(async () => {
    await echoWorker?.stop();
    rmSync(repository, { recursive: true, force: true });
  });

  /** Values no other caller sends: derived from the caller's index, per row and element. */
  function callerValues(datatype: Exclude<Datatype, "BF16">, caller: number, rows: number): TensorValues {
    const n = rows * ELEMENTS_PER_ROW;
    if (datatype === "BYTES") {
      return Array.from({ length: n }, (_, k) => new TextEncoder().encode(`caller ${caller} élément ${k}${"✓".repeat(caller % 3)}`));
    }
    const values = DATATYPE_INFO[datatype].allocate!(n);
    for (let k = 0; k < n; k++) {
      const seed = caller * 16 + k + 1;
      if (values instanceof BigInt64Array || values instanceof BigUint64Array) values[k] = BigInt(seed) * 1_000_000_007n;
      else if (datatype === "BOOL") values[k] = (caller >> k) & 1;
      else if (values instanceof Float32Array || values instanceof Float64Array) values[k] = seed + 0.25;
      else values[k] = seed; // FP16 travels as its bit pattern: a distinct half per seed
    }
    return values;
  }

  it("concurrent callers of 1 or 2 rows each get their own rows of every datatype back, in batches above 1", async () => {
    const client = workerClient(echoWorker.url, "connect-h2");
    const callers = 24;
    const rowsOf = (caller: number) => 1 + (caller % 2);
    const sent = Array.from({ length: callers }, (_, caller) => DATATYPES.map((d) => callerValues(d, caller, rowsOf(caller))));
    const answers = await Promise.all(
      sent.map((values, caller) =>
        client.modelInfer(
          create(ModelInferRequestSchema, {
            modelName: "echo",
            inputs: DATATYPES.map((datatype) => ({
              name: datatype.toLowerCase(),
              datatype,
              shape: [BigInt(rowsOf(caller)), BigInt(ELEMENTS_PER_ROW)],
            })),
            rawInputContents: values.map(encodeRaw),
          }),
        ),
      ),
    );
    answers.forEach((answer, caller) => {
      DATATYPES.forEach((datatype, i) => {
        const index = answer.outputs.findIndex((o) => o.name === `${datatype.toLowerCase()}_out`);
        expect(answer.outputs[index]!.shape, `caller ${caller} ${datatype}`).toEqual([BigInt(rowsOf(caller)), BigInt(ELEMENTS_PER_ROW)]);
        expect(Array.from(answer.rawOutputContents[index]!), `caller ${caller} ${datatype}`).toEqual(Array.from(encodeRaw(sent[caller]![i]!)));
      });
    });

    const stats = (await client.modelStatistics({ name: "echo" })).modelStats[0]!;
    expect(Number(stats.inferenceCount)).toBe(sent.reduce((sum, _, caller) => sum + rowsOf(caller), 0));
    expect(Math.max(...stats.batchStats.map((b) => Number(b.batchSize)))).toBeGreaterThan(2);
    expect(Number(stats.executionCount)).toBeLessThan(callers);
  });
});

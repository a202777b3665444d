// Pins down the worker's behaviour over time with a deliberately slow model:
// deadlines, cancellation, a bounded queue, and a graceful drain on SIGTERM.
import { create, toBinary } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { afterAll, describe, expect, it } from "vitest";
import { ModelInferRequestSchema } from "../../gen/inference/grpc_service_pb.js";
import { codeOf, workerClient } from "../support/clients.js";
import { FIXTURE_MODELS } from "../support/paths.js";
import { waitFor } from "../support/ports.js";
import { metricValue, startWorker, type WorkerHandle } from "../support/worker-process.js";

const started: WorkerHandle[] = [];
afterAll(async () => {
  await Promise.all(started.map((w) => w.stop("SIGKILL")));
});

async function fixtureWorker(): Promise<WorkerHandle> {
  const worker = await startWorker({ repository: FIXTURE_MODELS });
  started.push(worker);
  return worker;
}

const slowRequest = (value = 1) =>
  create(ModelInferRequestSchema, {
    modelName: "slow",
    inputs: [{ name: "x", datatype: "FP32", shape: [1n, 8n], contents: { fp32Contents: Array(8).fill(value) } }],
  });


describe("deadlines, cancellation and a bounded queue", () => {
  it("a deadline shorter than the run gives deadline_exceeded", async () => {
    const worker = await fixtureWorker();
    const client = workerClient(worker.url, "connect-h2");
    expect(await codeOf(client.modelInfer(slowRequest(), { timeoutMs: 30 }))).toBe(Code.DeadlineExceeded);
    // The worker stays usable afterwards.
    expect(await codeOf(client.modelInfer(slowRequest()))).toBe("ok");
  });

  it("a request cancelled while queued is removed and never runs", async () => {
    const worker = await fixtureWorker();
    const client = workerClient(worker.url, "connect-h2");
    const busy = client.modelInfer(slowRequest(1));
    await new Promise((r) => setTimeout(r, 50));
    const controller = new AbortController();
    const cancelled = codeOf(client.modelInfer(slowRequest(2), { signal: controller.signal }));
    await new Promise((r) => setTimeout(r, 20));
    controller.abort();
    expect(await cancelled).toBe(Code.Canceled);
    await busy;
    await new Promise((r) => setTimeout(r, 500));
    const stats = (await client.modelStatistics({ name: "slow" })).modelStats[0]!;
    expect(Number(stats.inferenceCount)).toBe(1);
    expect(Number(stats.inferenceStats!.fail!.count)).toBe(1);
  });

  it("a client that hangs up mid-run (HTTP/2 reset or HTTP/1.1 close) is counted as cancelled, not answered", async () => {
    const worker = await fixtureWorker();
    const cancelledCount = async () => metricValue(await worker.metrics(), "worker_inference_requests_total", 'model="slow"', 'outcome="cancelled"');
    const successCount = async () => metricValue(await worker.metrics(), "worker_inference_requests_total", 'model="slow"', 'outcome="success"');

    const h2 = new AbortController();
    const overH2 = codeOf(workerClient(worker.url, "connect-h2").modelInfer(slowRequest(1), { signal: h2.signal }));
    await new Promise((r) => setTimeout(r, 100));
    h2.abort();
    expect(await overH2).toBe(Code.Canceled);

    // Plain fetch speaks HTTP/1.1, as the edge does; aborting it closes the connection.
    const h1 = new AbortController();
    const overH1 = fetch(`${worker.url}/inference.GRPCInferenceService/ModelInfer`, {
      method: "POST",
      headers: { "content-type": "application/proto" },
      body: toBinary(ModelInferRequestSchema, slowRequest(2)),
      signal: h1.signal,
    }).catch(() => "aborted");
    await new Promise((r) => setTimeout(r, 100));
    h1.abort();
    expect(await overH1).toBe("aborted");

    await waitFor("both calls to be counted", async () => (await cancelledCount()) === 2, 10_000);
    expect(await successCount()).toBe(0);
  });

  it("a full queue rejects at once with resource_exhausted while the rest succeed", async () => {
    const worker = await fixtureWorker();
    const client = workerClient(worker.url, "connect-h2");
    const results = await Promise.all(Array.from({ length: 16 }, (_, i) => codeOf(client.modelInfer(slowRequest(i)))));
    expect(results).toContain(Code.ResourceExhausted);
    expect(results).toContain("ok");
    expect(results.every((r) => r === "ok" || r === Code.ResourceExhausted)).toBe(true);
  });
});

describe("graceful drain", () => {
  it("SIGTERM finishes in-flight requests, then exits 0", async () => {
    const worker = await fixtureWorker();
    const client = workerClient(worker.url, "connect-h2");
    const inFlight = [client.modelInfer(slowRequest(1)), client.modelInfer(slowRequest(2)), client.modelInfer(slowRequest(3))];
    await new Promise((r) => setTimeout(r, 100));
    const exit = worker.stop("SIGTERM");
    const outcomes = await Promise.allSettled(inFlight);
    expect(outcomes.map((o) => o.status)).toEqual(["fulfilled", "fulfilled", "fulfilled"]);
    expect(await exit).toBe(0);
    await expect(fetch(`${worker.url}/v2/health/live`)).rejects.toThrow();
  });
});

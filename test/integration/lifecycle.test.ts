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

/** Until the worker holds at least `n` `slow` calls (queued or running): an event, not a guess at timing. */
async function untilHeld(worker: WorkerHandle, n: number): Promise<void> {
  await waitFor(`${n} slow call(s) at the worker`, async () => metricValue(await worker.metrics(), "worker_inference_in_flight", 'model="slow"') >= n, 20_000);
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
    await untilHeld(worker, 1);
    const controller = new AbortController();
    const cancelled = codeOf(client.modelInfer(slowRequest(2), { signal: controller.signal }));
    // The second call waits in the queue behind the running one.
    await untilHeld(worker, 2);
    controller.abort();
    expect(await cancelled).toBe(Code.Canceled);
    await busy;
    const stats = async () => (await client.modelStatistics({ name: "slow" })).modelStats[0]!;
    await waitFor("the cancelled call to be counted", async () => Number((await stats()).inferenceStats!.fail!.count) === 1, 10_000);
    expect(Number((await stats()).inferenceCount)).toBe(1);
  });

  it("a client that hangs up mid-run (HTTP/2 reset or HTTP/1.1 close) is counted as cancelled, not answered", async () => {
    const worker = await fixtureWorker();
    const cancelledCount = async () => metricValue(await worker.metrics(), "worker_inference_requests_total", 'model="slow"', 'outcome="cancelled"');
    const successCount = async () => metricValue(await worker.metrics(), "worker_inference_requests_total", 'model="slow"', 'outcome="success"');

    const h2 = new AbortController();
    const overH2 = codeOf(workerClient(worker.url, "connect-h2").modelInfer(slowRequest(1), { signal: h2.signal }));
    await untilHeld(worker, 1);
    h2.abort();
    expect(await overH2).toBe(Code.Canceled);
    // Settled before the next call, so "held" below means the HTTP/1.1 call.
    await waitFor("the HTTP/2 call to be counted", async () => (await cancelledCount()) === 1, 10_000);
    await waitFor("the worker to let go of it", async () => metricValue(await worker.metrics(), "worker_inference_in_flight", 'model="slow"') === 0, 10_000);

    // Plain fetch speaks HTTP/1.1, as the edge does; aborting it closes the connection.
    const h1 = new AbortController();
    const overH1 = fetch(`${worker.url}/inference.GRPCInferenceService/ModelInfer`, {
      method: "POST",
      headers: { "content-type": "application/proto" },
      body: toBinary(ModelInferRequestSchema, slowRequest(2)),
      signal: h1.signal,
    }).catch(() => "aborted");
    await untilHeld(worker, 1);
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
    // SIGTERM once the worker holds all three, so the drain is what answers them.
    await untilHeld(worker, 3);
    const exit = worker.stop("SIGTERM");
    const outcomes = await Promise.allSettled(inFlight);
    expect(outcomes.map((o) => o.status)).toEqual(["fulfilled", "fulfilled", "fulfilled"]);
    expect(await exit).toBe(0);
    await expect(fetch(`${worker.url}/v2/health/live`)).rejects.toThrow();
  });
});

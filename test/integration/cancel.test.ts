// Cancelling a call by its id, end to end: the edge bundle in workerd, a real
// worker process, real Redis behind the Upstash bridge, API keys. The edge's
// HTTP/1.1 hop does not notice a client leaving here, so ModelInferCancel is
// the way an abort reaches the worker; these tests pin what it does for
// Connect and REST callers, and that one caller cannot cancel another's call.
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKey } from "../../scripts/keys/commands.js";
import { edgeClient } from "../support/clients.js";
import { startEdge, type EdgeHandle } from "../support/edge-runtime.js";
import { FIXTURE_MODELS } from "../support/paths.js";
import { startRedisStack, type RedisStack } from "../support/redis-stack.js";
import { metricValue, startWorker, type WorkerHandle } from "../support/worker-process.js";

let stack: RedisStack;
let worker: WorkerHandle;
let edge: EdgeHandle;
let alice: Record<string, string>;
let bob: Record<string, string>;

beforeAll(async () => {
  [stack, worker] = await Promise.all([startRedisStack(), startWorker({ repository: FIXTURE_MODELS })]);
  edge = await startEdge({ WORKER_URLS: worker.url, ...stack.edgeVars(), AUTH_ANONYMOUS_PLAN: "" });
  const keyFor = async (tenant: string) =>
    ({ authorization: `Bearer ${(await createKey(stack.client(), { tenant, plan: "development", name: "cancel" })).key}` });
  [alice, bob] = await Promise.all([keyFor("alice"), keyFor("bob")]);
  // Warm the edge (key lookups, the model catalogue), so timings below are the call's own.
  for (const key of [alice, bob]) await edgeClient(edge.url, "connect-binary", key).modelInfer(slowRequest(""));
});

afterAll(async () => {
  await edge?.dispose();
  await worker?.stop();
  await stack?.close();
});

const slowInputs = [{ name: "x", datatype: "FP32", shape: [1, 8], data: [1, 2, 3, 4, 5, 6, 7, 8] }];
const slowRequest = (id: string) => ({
  modelName: "slow",
  id,
  inputs: [{ name: "x", datatype: "FP32", shape: [1n, 8n], contents: { fp32Contents: [1, 2, 3, 4, 5, 6, 7, 8] } }],
});
const outcomes = async () => {
  const text = await worker.metrics();
  const of = (outcome: string) => metricValue(text, "worker_inference_requests_total", 'model="slow"', `outcome="${outcome}"`);
  return { cancelled: of("cancelled"), success: of("success") };
};
/** Until the worker holds a `slow` call (its /metrics answers during runs: sessions run in threads). */
async function untilRunning(): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (metricValue(await worker.metrics(), "worker_inference_in_flight", 'model="slow"') === 0) {
    if (Date.now() > deadline) throw new Error("the slow call never reached the worker");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
const codeOf = (error: unknown) => ConnectError.from(error).code;

async function restCancel(id: unknown, headers: Record<string, string>, model = "slow") {
  const response = await fetch(`${edge.url}/v2/models/${model}/cancel`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ id }),
  });
  return { status: response.status, body: (await response.json()) as { cancelled?: number; error?: string } };
}

describe("cancelling a call by id", () => {
  it("Connect: ModelInferCancel ends the call as canceled and the worker counts a cancellation, not a run", async () => {
    const before = await outcomes();
    const client = edgeClient(edge.url, "connect-binary", alice);
    const call = client.modelInfer(slowRequest("connect-1")).then(() => "ok", codeOf);
    await untilRunning();
    const answer = await client.modelInferCancel({ modelName: "slow", id: "connect-1" });
    expect(answer.cancelled).toBe(1);
    expect(await call).toBe(Code.Canceled);
    const after = await outcomes();
    expect({ cancelled: after.cancelled - before.cancelled, success: after.success - before.success }).toEqual({ cancelled: 1, success: 0 });
  });

  it("REST: POST /v2/models/{name}/cancel with the body's id; the infer call answers 499", async () => {
    const call = fetch(`${edge.url}/v2/models/slow/infer`, {
      method: "POST",
      headers: { "content-type": "application/json", ...alice },
      body: JSON.stringify({ id: "rest-1", inputs: slowInputs }),
    });
    await untilRunning();
    const cancel = await restCancel("rest-1", alice);
    expect(cancel).toEqual({ status: 200, body: { model_name: "slow", id: "rest-1", cancelled: 1 } });
    const response = await call;
    expect(response.status).toBe(499);
    expect(((await response.json()) as { error: string }).error).toMatch(/cancelled by its caller/);
  });

  it("GraphQL: cancelInference ends an infer field with the same id as CANCELED", async () => {
    const gql = (query: string) =>
      fetch(`${edge.url}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/graphql-response+json", ...alice },
        body: JSON.stringify({ query }),
      }).then((r) => r.json() as Promise<any>);
    const call = gql(`{ infer(model: "slow", id: "gql-1", inputs: [{name: "x", datatype: FP32, shape: [1, 8], data: [1, 2, 3, 4, 5, 6, 7, 8]}]) { id } }`);
    await untilRunning();
    expect(await gql(`mutation { cancelInference(model: "slow", id: "gql-1") { cancelled } }`)).toEqual({ data: { cancelInference: { cancelled: 1 } } });
    const answer = await call;
    expect(answer.data.infer).toBeNull();
    expect(answer.errors[0].extensions.code).toBe("CANCELED");
  });

  it("another caller using the same id cancels nothing: the owner's call completes", async () => {
    const call = edgeClient(edge.url, "grpc-web", alice).modelInfer(slowRequest("shared-id"));
    await untilRunning();
    const answer = await edgeClient(edge.url, "grpc-web", bob).modelInferCancel({ modelName: "slow", id: "shared-id" });
    expect(answer.cancelled).toBe(0);
    const response = await call;
    expect(response.id).toBe("shared-id");
    expect(response.outputs[0]!.name).toBe("y");
  });

  it("a cancellation that overtakes its call refuses the call on arrival", async () => {
    const client = edgeClient(edge.url, "connect-json", alice);
    expect((await client.modelInferCancel({ modelName: "slow", id: "early-1" })).cancelled).toBe(0);
    // Executions of `slow` (one histogram sample per run): the refused call adds none.
    const runs = async () => metricValue(await worker.metrics(), "worker_inference_batch_size_count", 'model="slow"');
    const [runsBefore, before] = [await runs(), await outcomes()];
    const code = await client.modelInfer(slowRequest("early-1")).then(() => "ok", codeOf);
    expect(code).toBe(Code.Canceled);
    // Refused on arrival: it never ran, and nothing of it is left at the worker.
    expect(await runs()).toBe(runsBefore);
    expect((await outcomes()).success).toBe(before.success);
    expect(metricValue(await worker.metrics(), "worker_inference_in_flight", 'model="slow"')).toBe(0);
  });

  it("bad cancellations get clear errors", async () => {
    expect(await restCancel("", alice)).toMatchObject({ status: 400, body: { error: expect.stringMatching(/id is required/) } });
    expect(await restCancel(7, alice)).toMatchObject({ status: 400, body: { error: expect.stringMatching(/"id" must be a string/) } });
    expect(await restCancel("x".repeat(129), alice)).toMatchObject({ status: 400, body: { error: expect.stringMatching(/limit is 128/) } });
    expect(await restCancel("x", alice, "nope")).toMatchObject({ status: 404 });
    expect(await restCancel("x", {})).toMatchObject({ status: 401 });
    const tooLong = await edgeClient(edge.url, "connect-binary", alice).modelInfer(slowRequest("y".repeat(129))).then(() => "ok", codeOf);
    expect(tooLong).toBe(Code.InvalidArgument);
  });
});

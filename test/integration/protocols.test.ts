// Pins down that every public protocol, at the edge and on the worker, gives
// the same answer for iris, and that the answer is onnxruntime's own.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { IRIS_ROWS, irisReference, irisRequest, irisRestBody } from "../support/iris.js";
import { edgeClient, grpcJsClient, grpcUnary, restCall, workerClient, type EdgeProtocol, type WorkerProtocol } from "../support/clients.js";
import { startEdge, type EdgeHandle } from "../support/edge-runtime.js";
import { plainOutputs } from "../support/tensors.js";
import { startWorker, type WorkerHandle } from "../support/worker-process.js";

let worker: WorkerHandle;
let edge: EdgeHandle;
let reference: Awaited<ReturnType<typeof irisReference>>;

beforeAll(async () => {
  worker = await startWorker();
  edge = await startEdge({ WORKER_URLS: worker.url });
  reference = await irisReference();
});

afterAll(async () => {
  await edge?.dispose();
  await worker?.stop();
});

function expectReference(outputs: { name: string; data: unknown[]; shape: number[] }[]) {
  const probabilities = outputs.find((o) => o.name === "probabilities")!;
  const label = outputs.find((o) => o.name === "label")!;
  expect(probabilities.shape).toEqual([3, 3]);
  expect(probabilities.data).toEqual(reference.probabilities);
  expect(label.data).toEqual(reference.label);
}

describe("iris through every protocol equals onnxruntime's own output", () => {
  it("predicts each species for its known row (model sanity)", () => {
    expect(reference.label).toEqual([0, 1, 2]);
  });

  it("REST /v2/models/iris/infer at the edge", async () => {
    const { status, json } = await restCall(`${edge.url}/v2/models/iris/infer`, irisRestBody());
    expect(status).toBe(200);
    expect(json.model_name).toBe("iris");
    expect(json.model_version).toBe("1");
    expectReference(json.outputs);
  });

  it("REST with an explicit version and nested vs flat data agree", async () => {
    const flat = { inputs: [{ name: "input", datatype: "FP32", shape: [3, 4], data: IRIS_ROWS.flat() }] };
    const { status, json } = await restCall(`${edge.url}/v2/models/iris/versions/1/infer`, flat);
    expect(status).toBe(200);
    expectReference(json.outputs);
  });

  for (const protocol of ["connect-json", "connect-binary", "grpc-web"] satisfies EdgeProtocol[]) {
    it(`${protocol} ModelInfer at the edge`, async () => {
      const response = await edgeClient(edge.url, protocol).modelInfer(irisRequest());
      expectReference(plainOutputs(response));
    });
  }

  it("Connect with typed contents (not raw) at the edge", async () => {
    const response = await edgeClient(edge.url, "connect-binary").modelInfer(irisRequest(IRIS_ROWS, false));
    expectReference(plainOutputs(response));
  });

  for (const protocol of ["connect-h2", "grpc-web-h2", "grpc-h2"] satisfies WorkerProtocol[]) {
    it(`${protocol} ModelInfer directly on the worker`, async () => {
      const response = await workerClient(worker.url, protocol).modelInfer(irisRequest());
      expectReference(plainOutputs(response));
    });
  }

  it("an off-the-shelf @grpc/grpc-js client on the worker", async () => {
    const client = grpcJsClient(`127.0.0.1:${worker.port}`);
    try {
      const values = new Float32Array(IRIS_ROWS.flat());
      const response = await grpcUnary<any>(client, "ModelInfer", {
        model_name: "iris",
        inputs: [{ name: "input", datatype: "FP32", shape: [3, 4] }],
        raw_input_contents: [Buffer.from(values.buffer)],
      });
      const names: string[] = response.outputs.map((o: { name: string }) => o.name);
      const raw: Buffer = response.raw_output_contents[names.indexOf("probabilities")];
      const probabilities = Array.from(new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength)));
      expect(probabilities).toEqual(reference.probabilities);
      const live = await grpcUnary<{ live: boolean }>(client, "ServerLive", {});
      expect(live.live).toBe(true);
    } finally {
      client.close();
    }
  });
});

describe("health and metadata agree across protocols", () => {
  it("REST health, server metadata and model metadata", async () => {
    expect((await restCall(`${edge.url}/v2/health/live`)).status).toBe(200);
    const ready = await restCall(`${edge.url}/v2/health/ready`);
    expect(ready.status).toBe(200);
    const server = await restCall(`${edge.url}/v2`);
    expect(server.status).toBe(200);
    expect(typeof server.json.name).toBe("string");
    expect(Array.isArray(server.json.extensions)).toBe(true);

    const model = await restCall(`${edge.url}/v2/models/iris`);
    expect(model.status).toBe(200);
    expect(model.json.name).toBe("iris");
    expect(model.json.versions).toContain("1");
    expect(model.json.inputs).toEqual([{ name: "input", datatype: "FP32", shape: [-1, 4] }]);
    expect(model.json.outputs.map((o: { name: string }) => o.name).sort()).toEqual(["label", "probabilities"]);

    const versioned = await restCall(`${edge.url}/v2/models/iris/versions/1`);
    expect(versioned.status).toBe(200);
    const modelReady = await restCall(`${edge.url}/v2/models/iris/ready`);
    expect(modelReady.status).toBe(200);
    expect((await restCall(`${edge.url}/v2/models/iris/versions/1/ready`)).status).toBe(200);
  });

  it("Connect metadata at the edge matches the worker's and reports the execution provider", async () => {
    const atEdge = await edgeClient(edge.url, "connect-json").modelMetadata({ name: "iris" });
    const atWorker = await workerClient(worker.url, "grpc-h2").modelMetadata({ name: "iris" });
    expect(atEdge).toEqual(atWorker);
    const provider = atEdge.parameters["execution_provider"]?.parameterChoice;
    expect(provider).toEqual({ case: "stringParam", value: "cpu" });
    expect((await edgeClient(edge.url, "grpc-web").serverLive({})).live).toBe(true);
    expect((await edgeClient(edge.url, "connect-binary").serverReady({})).ready).toBe(true);
    expect((await edgeClient(edge.url, "connect-binary").modelReady({ name: "iris" })).ready).toBe(true);
  });

  it("ModelStatistics counts exactly the requests and rows made between two readings", async () => {
    const client = workerClient(worker.url, "connect-h2");
    const read = async () => (await client.modelStatistics({ name: "iris" })).modelStats.find((m) => m.name === "iris")!;
    const before = await read();
    // Straight to the worker (nothing in between may answer from a cache), one after another.
    const calls = 5;
    for (let i = 0; i < calls; i++) await client.modelInfer(irisRequest());
    const after = await read();
    expect(after.inferenceStats!.success!.count - before.inferenceStats!.success!.count).toBe(BigInt(calls));
    expect(after.inferenceStats!.fail!.count - before.inferenceStats!.fail!.count).toBe(0n);
    expect(after.inferenceCount - before.inferenceCount).toBe(BigInt(calls * IRIS_ROWS.length));
    // Sequential calls cannot share a batch: one execution each.
    expect(after.executionCount - before.executionCount).toBe(BigInt(calls));
    const batched = (s: typeof after) => s.batchStats.reduce((n, b) => n + b.computeInfer!.count, 0n);
    expect(batched(after) - batched(before)).toBe(BigInt(calls));
  });
});

// Pins down that only the edge may call a worker when WORKER_TOKEN is set:
// the edge with the shared token gets answers, anyone without it gets
// unauthenticated, and an edge with the wrong token blames its own config.
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { restCall, workerClient } from "../support/clients.js";
import { startEdge, type EdgeHandle } from "../support/edge-runtime.js";
import { irisRequest, irisRestBody } from "../support/iris.js";
import { startWorker, type WorkerHandle } from "../support/worker-process.js";

const TOKEN = "test-shared-token-0123456789";
let worker: WorkerHandle;
const edges: EdgeHandle[] = [];

beforeAll(async () => {
  worker = await startWorker({ env: { WORKER_TOKEN: TOKEN } });
});

afterAll(async () => {
  await Promise.all(edges.map((edge) => edge.dispose()));
  await worker?.stop();
});

describe("shared worker token", () => {
  it("the edge holding the token is served", async () => {
    const edge = await startEdge({ WORKER_URLS: worker.url, WORKER_TOKEN: TOKEN });
    edges.push(edge);
    const response = await restCall(`${edge.url}/v2/models/iris/infer`, irisRestBody());
    expect(response.status, response.text).toBe(200);
  });

  it("a direct call without the token (or with a wrong one) is unauthenticated; health stays open", async () => {
    const attempts: Record<string, string>[] = [{}, { authorization: "Bearer wrong" }];
    for (const headers of attempts) {
      try {
        await workerClient(worker.url, "grpc-h2", headers).modelInfer(irisRequest());
        expect.unreachable();
      } catch (error) {
        expect(ConnectError.from(error).code).toBe(Code.Unauthenticated);
      }
    }
    const ok = await workerClient(worker.url, "grpc-h2", { authorization: `Bearer ${TOKEN}` }).modelInfer(irisRequest());
    expect(ok.outputs.length).toBe(2);
    expect((await fetch(`${worker.url}/v2/health/ready`)).status).toBe(200);
  });

  it("an edge with the wrong token answers 500 'edge misconfigured', never the worker's 401", async () => {
    const edge = await startEdge({ WORKER_URLS: worker.url, WORKER_TOKEN: "not-the-token" });
    edges.push(edge);
    const response = await restCall(`${edge.url}/v2/models/iris/infer`, irisRestBody());
    expect(response.status).toBe(500);
    expect(response.json.error).toMatch(/edge misconfigured/);
  });
});

// Pins down what a dead GPU worker means to clients: another listed worker
// takes the traffic, and with none left the answer is 503/unavailable with a
// message, never a hang or a 500.
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { edgeClient, restCall } from "../support/clients.js";
import { startEdge, type EdgeHandle } from "../support/edge-runtime.js";
import { irisRequest, irisRestBody } from "../support/iris.js";
import { freePort } from "../support/ports.js";
import { startWorker, type WorkerHandle } from "../support/worker-process.js";

let worker: WorkerHandle;
let deadUrl: string;
const edges: EdgeHandle[] = [];

beforeAll(async () => {
  worker = await startWorker();
  deadUrl = `http://127.0.0.1:${await freePort()}`;
});

afterAll(async () => {
  await Promise.all(edges.map((edge) => edge.dispose()));
  await worker?.stop();
});

describe("worker pool failover", () => {
  it("with one dead and one live worker listed, every request succeeds", async () => {
    const edge = await startEdge({ WORKER_URLS: `${deadUrl},${worker.url}` });
    edges.push(edge);
    for (let i = 0; i < 20; i++) {
      const response = await restCall(`${edge.url}/v2/models/iris/infer`, irisRestBody());
      expect(response.status, response.text).toBe(200);
    }
    const viaConnect = await edgeClient(edge.url, "connect-binary").modelInfer(irisRequest());
    expect(viaConnect.outputs.length).toBe(2);
  });

  it("with every worker down: REST 503 with a message, Connect unavailable", async () => {
    const edge = await startEdge({ WORKER_URLS: deadUrl });
    edges.push(edge);
    const started = Date.now();
    const response = await restCall(`${edge.url}/v2/models/iris/infer`, irisRestBody());
    expect(response.status).toBe(503);
    expect(response.json.error).toMatch(/worker/i);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect((await restCall(`${edge.url}/v2/health/ready`)).status).toBe(503);
    try {
      await edgeClient(edge.url, "connect-json").modelInfer(irisRequest());
      expect.unreachable();
    } catch (error) {
      expect(ConnectError.from(error).code).toBe(Code.Unavailable);
    }
  });
});

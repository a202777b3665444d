import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-web";
import { describe, expect, it } from "vitest";
import { GRPCInferenceService } from "../../../gen/inference/grpc_service_pb.js";
import { createApp } from "../../../edge/index.js";
import { echoImpl, fakeWorkers } from "../support/fake-worker.js";

const BASE = "http://edge.test";

function setup(vars: Record<string, string> = {}, impl = echoImpl) {
  const workers = fakeWorkers({ "http://w1": impl });
  const app = createApp({ fetch: workers.fetch });
  // Anonymous access (off by default) stands in for credentials; auth has its own tests.
  const env = { WORKER_URLS: "http://w1", AUTH_ANONYMOUS_PLAN: "development", ...vars };
  const edgeFetch = ((input: string | URL | Request, init?: RequestInit) => app.fetch(new Request(input, init), env)) as typeof fetch;
  const client = (protocol: "connect-binary" | "connect-json" | "grpc-web") =>
    createClient(
      GRPCInferenceService,
      protocol === "grpc-web"
        ? createGrpcWebTransport({ baseUrl: BASE, fetch: edgeFetch })
        : createConnectTransport({ baseUrl: BASE, fetch: edgeFetch, useBinaryFormat: protocol === "connect-binary" }),
    );
  return { client, edgeFetch, workers };
}

const infer = { modelName: "iris", inputs: [{ name: "x", datatype: "FP32", shape: [2n] }], rawInputContents: [new Uint8Array(8)] };

describe.each(["connect-binary", "connect-json", "grpc-web"] as const)("Connect adapter over %s", (protocol) => {
  it("delegates every method to the pipeline and returns the worker's answer", async () => {
    const c = setup().client(protocol);
    expect((await c.serverLive({})).live).toBe(true);
    expect((await c.serverReady({})).ready).toBe(true);
    expect((await c.modelReady({ name: "iris" })).ready).toBe(true);
    expect((await c.serverMetadata({})).name).toBe("fake-worker");
    expect((await c.modelMetadata({ name: "iris" })).inputs[0]!.shape).toEqual([-1n, 4n]);
    expect((await c.modelInfer(infer)).outputs[0]!.name).toBe("x_out");
    expect((await c.modelStatistics({})).modelStats[0]!.inferenceCount).toBe(3n);
  });

  it("applies the pipeline's checks (invalid_argument naming the tensor)", async () => {
    const error = await setup().client(protocol).modelInfer({ ...infer, inputs: [{ name: "x", datatype: "FP32", shape: [3n] }] }).catch((e) => e);
    expect(error.code).toBe(Code.InvalidArgument);
    expect(error.rawMessage).toMatch(/input "x": raw contents hold 8 bytes/);
  });

  it("keeps upstream error codes and messages", async () => {
    const impl = { ...echoImpl, modelInfer: () => { throw new ConnectError("queue full", Code.ResourceExhausted); } };
    const error = await setup({}, impl).client(protocol).modelInfer(infer).catch((e) => e);
    expect([error.code, error.rawMessage]).toEqual([Code.ResourceExhausted, "queue full"]);
  });

  it("propagates the client's deadline to the worker (capped by REQUEST_TIMEOUT_MS)", async () => {
    const { client, workers } = setup({ REQUEST_TIMEOUT_MS: "3000" });
    await client(protocol).modelInfer(infer, { timeoutMs: 1500 });
    await client(protocol).modelInfer(infer, { timeoutMs: 60_000 });
    const [first, second] = workers.calls
      .filter((call) => call.url.endsWith("/ModelInfer"))
      .map((call) => Number(call.headers.get("connect-timeout-ms")));
    expect(first).toBeLessThanOrEqual(1500);
    expect(first).toBeGreaterThan(1000);
    expect(second).toBeLessThanOrEqual(3000);
    expect(second).toBeGreaterThan(2500);
  });
});

describe("Connect adapter edge cases", () => {
  it("answers an unreadable binary body with invalid_argument (Connect: HTTP 400)", async () => {
    const { edgeFetch } = setup();
    const res = await edgeFetch(`${BASE}/inference.GRPCInferenceService/ModelInfer`, {
      method: "POST", headers: { "content-type": "application/proto" }, body: new Uint8Array([0xff, 0xff, 0xff]),
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as any;
    expect(body.code).toBe("invalid_argument");
    expect(body.message).toMatch(/^request body is not a valid protobuf message \(parse binary: /);
  });

  it("answers an unreadable binary body with invalid_argument (gRPC-Web: grpc-status 3)", async () => {
    const error = await setup().edgeFetch(`${BASE}/inference.GRPCInferenceService/ModelInfer`, {
      method: "POST", headers: { "content-type": "application/grpc-web+proto" }, body: new Uint8Array([0, 0, 0, 0, 2, 0xff, 0xff]),
    });
    const text = new TextDecoder().decode(new Uint8Array(await error.arrayBuffer()).subarray(5));
    expect(text).toContain("grpc-status: 3");
    expect(decodeURIComponent(text)).toContain("request body is not a valid protobuf message");
  });

  it("rejects bodies over MAX_BODY_BYTES with resource_exhausted: 413 for Connect, grpc-status 8 for gRPC-Web", async () => {
    const { edgeFetch, client } = setup({ MAX_BODY_BYTES: "64" });
    const big = { ...infer, inputs: [{ name: "x", datatype: "FP32", shape: [64n] }], rawInputContents: [new Uint8Array(256)] };
    const res = await edgeFetch(`${BASE}/inference.GRPCInferenceService/ModelInfer`, {
      method: "POST", headers: { "content-type": "application/proto", "content-length": "256" }, body: new Uint8Array(256),
    });
    expect(res.status).toBe(413);
    expect(((await res.json()) as any).code).toBe("resource_exhausted");
    for (const protocol of ["connect-binary", "grpc-web"] as const) {
      const error = await client(protocol).modelInfer(big).catch((e) => e);
      expect(error.code).toBe(Code.ResourceExhausted);
      expect(error.rawMessage).toBe("request body exceeds 64 bytes (MAX_BODY_BYTES)");
    }
  });

  it("answers an unknown method with 404 unimplemented", async () => {
    const res = await setup().edgeFetch(`${BASE}/inference.GRPCInferenceService/Nope`, { method: "POST", headers: { "content-type": "application/proto" } });
    expect(res.status).toBe(404);
    expect(((await res.json()) as any).code).toBe("unimplemented");
  });
});

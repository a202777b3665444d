// The worker in-process over real sockets with the real iris model: the
// connect-node gRPC transport over HTTP/2, an off-the-shelf @grpc/grpc-js
// client generated from the .proto at run time, and the Connect protocol
// over HTTP/1.1 (what workerd's fetch speaks), all on one port.
import http from "node:http";
import http2 from "node:http2";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeRaw } from "../../common/oip/index.js";
import { Health, HealthCheckResponse_ServingStatus } from "../../gen/grpc/health/v1/health_pb.js";
import { GRPCInferenceService, ModelInferRequestSchema } from "../../gen/inference/grpc_service_pb.js";
import { parseConfig } from "../../gpu-worker/config.js";
import { loadRepository, type ModelRepository } from "../../gpu-worker/model/repository.js";
import { startServer, type RunningServer } from "../../gpu-worker/server.js";

const ROOT = join(import.meta.dirname, "../..");
const TOKEN = "test-worker-token";
const auth = { authorization: `Bearer ${TOKEN}` };

let repository: ModelRepository;
let server: RunningServer;
let h2: Client<typeof GRPCInferenceService>;

const setosa = new Float32Array([5.1, 3.5, 1.4, 0.2]);
const virginica = new Float32Array([6.7, 3.0, 5.2, 2.3]);

beforeAll(async () => {
  const config = parseConfig({
    WORKER_PORT: "0",
    MODEL_REPOSITORY: join(ROOT, "models"),
    EXECUTION_PROVIDERS: "cpu",
    WORKER_TOKEN: TOKEN,
    LOG_LEVEL: "warn",
  });
  repository = await loadRepository(config);
  server = await startServer(config, repository);
  h2 = createClient(GRPCInferenceService, createGrpcTransport({ baseUrl: server.url }));
});

afterAll(async () => {
  await server?.close();
  await repository?.close();
});

describe("worker server (iris, in-process)", () => {
  it("classifies iris rows over gRPC/HTTP2 with raw tensors and reports the resolved version", async () => {
    const both = new Float32Array([...setosa, ...virginica]);
    const response = await h2.modelInfer(
      { modelName: "iris", inputs: [{ name: "input", datatype: "FP32", shape: [2n, 4n] }], rawInputContents: [encodeRaw(both)] },
      { headers: auth },
    );
    expect(response.modelVersion).toBe("1");
    expect(response.outputs.map((o) => [o.name, o.datatype, o.shape])).toEqual([
      ["probabilities", "FP32", [2n, 3n]],
      ["label", "INT64", [2n, 1n]],
    ]);
    const raw = response.rawOutputContents;
    const probabilities = new Float32Array(raw[0]!.slice().buffer);
    expect(probabilities[0]! + probabilities[1]! + probabilities[2]!).toBeCloseTo(1, 5);
    expect(Array.from(new BigInt64Array(raw[1]!.slice().buffer))).toEqual([0n, 2n]);
  });

  it("serves an off-the-shelf @grpc/grpc-js client built from the .proto", async () => {
    const definition = protoLoader.loadSync(join(ROOT, "proto/inference/grpc_service.proto"), { keepCase: true, longs: String, defaults: true });
    const proto = grpc.loadPackageDefinition(definition) as unknown as {
      inference: { GRPCInferenceService: new (address: string, credentials: grpc.ChannelCredentials) => grpc.Client };
    };
    const client = new proto.inference.GRPCInferenceService(new URL(server.url).host, grpc.credentials.createInsecure());
    const metadata = new grpc.Metadata();
    metadata.set("authorization", auth.authorization);
    type Call = (req: unknown, md: grpc.Metadata, cb: (err: grpc.ServiceError | null, res: Record<string, unknown>) => void) => void;
    const call = (method: string, request: unknown) =>
      new Promise<Record<string, unknown>>((resolve, reject) =>
        ((client as unknown as Record<string, Call>)[method]!).call(client, request, metadata, (err, res) => (err ? reject(err) : resolve(res))),
      );
    try {
      const response = await call("ModelInfer", {
        model_name: "iris",
        inputs: [{ name: "input", datatype: "FP32", shape: [1, 4], contents: { fp32_contents: Array.from(virginica) } }],
        outputs: [{ name: "label" }],
      });
      expect(response.model_version).toBe("1");
      expect((response.outputs as { name: string }[]).map((o) => o.name)).toEqual(["label"]);
      expect((response.raw_output_contents as Buffer[])[0]!.readBigInt64LE(0)).toBe(2n);
      const metadataResponse = await call("ServerMetadata", {});
      expect(metadataResponse.extensions).toContain("statistics");
    } finally {
      client.close();
    }
  });

  it("speaks the Connect protocol over HTTP/1.1 on the same port", async () => {
    const h1 = createClient(GRPCInferenceService, createConnectTransport({ baseUrl: server.url, httpVersion: "1.1" }));
    const response = await h1.modelInfer(
      create(ModelInferRequestSchema, {
        modelName: "iris",
        modelVersion: "1",
        inputs: [{ name: "input", datatype: "FP32", shape: [1n, 4n], contents: { fp32Contents: Array.from(setosa) } }],
      }),
      { headers: auth },
    );
    expect(new BigInt64Array(response.rawOutputContents[1]!.slice().buffer)[0]).toBe(0n);
  });

  it("reports execution provider, batch size and version in ModelMetadata parameters", async () => {
    const metadata = await h2.modelMetadata({ name: "iris" }, { headers: auth });
    expect(metadata.inputs[0]).toMatchObject({ name: "input", datatype: "FP32", shape: [-1n, 4n] });
    const value = (key: string) => metadata.parameters[key]?.parameterChoice.value;
    expect(value("execution_provider")).toBe("cpu");
    expect(value("max_batch_size")).toBe(64n);
    expect(value("deterministic")).toBe(true);
    expect(value("version")).toBe("1");
  });

  it("answers invalid_argument naming the tensor and not_found for unknown models", async () => {
    await expect(
      h2.modelInfer({ modelName: "iris", inputs: [{ name: "input", datatype: "FP64", shape: [1n, 4n] }] }, { headers: auth }),
    ).rejects.toMatchObject({ code: Code.InvalidArgument, rawMessage: expect.stringContaining('input "input"') });
    await expect(h2.modelMetadata({ name: "nope" }, { headers: auth })).rejects.toMatchObject({ code: Code.NotFound });
  });

  it("requires the bearer token on RPCs but leaves health open", async () => {
    const error = await h2.serverLive({}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectError);
    expect((error as ConnectError).code).toBe(Code.Unauthenticated);
    await expect(h2.serverLive({}, { headers: { authorization: "Bearer wrong" } })).rejects.toMatchObject({ code: Code.Unauthenticated });
    const health = createClient(Health, createGrpcTransport({ baseUrl: server.url }));
    expect((await health.check({ service: "" })).status).toBe(HealthCheckResponse_ServingStatus.SERVING);
    expect((await fetch(`${server.url}/v2/health/live`)).status).toBe(200);
    expect(await (await fetch(`${server.url}/v2/health/ready`)).json()).toEqual({ ready: true });
  });

  it("counts requests in ModelStatistics and /metrics", async () => {
    const stats = await h2.modelStatistics({ name: "iris" }, { headers: auth });
    const iris = stats.modelStats[0]!;
    expect(iris.inferenceStats?.success?.count).toBe(3n);
    expect(iris.inferenceStats?.fail?.count).toBe(1n);
    expect(iris.inferenceCount).toBe(4n);
    expect(iris.executionCount).toBe(3n);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toContain('worker_inference_requests_total{model="iris",version="1",outcome="success"} 3');
    expect(metrics).toContain('worker_model_info{model="iris",version="1",provider="cpu"} 1');
  });

  describe("an upload refused on its headers (no token) is not read, and not left hanging", () => {
    const INFER = "/inference.GRPCInferenceService/ModelInfer";
    /** POSTs `bytes` without the token on `agent`'s one connection; resolves the status and whether the socket was reused. */
    const post = (agent: http.Agent, bytes: number) =>
      new Promise<{ status: number; reused: boolean; socket: import("node:net").Socket }>((resolve, reject) => {
        const req = http.request(`${server.url}${INFER}`, { method: "POST", agent, headers: { "content-type": "application/proto" } }, (res) => {
          res.resume();
          res.on("end", () => resolve({ status: res.statusCode ?? 0, reused: req.reusedSocket, socket: req.socket! }));
        });
        let answered = false;
        req.on("response", () => (answered = true));
        req.on("error", (error) => answered || reject(error));
        req.end(Buffer.alloc(bytes));
      });

    it("HTTP/1.1: a body within the read limit is discarded and the connection serves the next call", async () => {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      try {
        const first = await post(agent, Math.floor(server.readMaxBytes / 2));
        expect(first.status).toBe(401);
        const second = await post(agent, 16);
        expect(second.status).toBe(401);
        expect(second.reused).toBe(true);
      } finally {
        agent.destroy();
      }
    });

    it("HTTP/1.1: a body past the read limit gets its answer, then the connection is closed", async () => {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      try {
        const { status, socket } = await post(agent, 3 * server.readMaxBytes);
        expect(status).toBe(401);
        if (!socket.destroyed) await new Promise((resolve) => socket.once("close", resolve));
        expect(socket.destroyed).toBe(true);
      } finally {
        agent.destroy();
      }
    });

    it("HTTP/2: the answer comes while the body is open, then the server ends the stream with NO_ERROR", async () => {
      const session = http2.connect(server.url);
      try {
        const stream = session.request({ ":method": "POST", ":path": INFER, "content-type": "application/grpc" });
        stream.write(Buffer.alloc(1024)); // and never ends the request
        const headers = await new Promise<http2.IncomingHttpHeaders>((resolve) => stream.once("response", resolve));
        stream.resume();
        const trailers = await new Promise<http2.IncomingHttpHeaders>((resolve) => stream.once("trailers", resolve));
        await new Promise((resolve) => stream.once("close", resolve));
        expect(headers[":status"]).toBe(200);
        expect(trailers["grpc-status"]).toBe("16");
        expect(stream.rstCode).toBe(http2.constants.NGHTTP2_NO_ERROR);
      } finally {
        session.destroy();
      }
    });
  });

  it("drains: not ready, new RPCs refused, listener closed", async () => {
    const draining = server.drain(1000);
    expect(server.state.ready).toBe(false);
    await draining;
    await expect(fetch(`${server.url}/v2/health/live`)).rejects.toThrow();
  });
});

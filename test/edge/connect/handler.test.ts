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

const infer = { modelName: "iris", inputs: [{ name: "input", datatype: "FP32", shape: [1n, 4n] }], rawInputContents: [new Uint8Array(16)] };

describe.each(["connect-binary", "connect-json", "grpc-web"] as const)("Connect adapter over %s", (protocol) => {
  it("delegates every method to the pipeline and returns the worker's answer", async () => {
    const c = setup().client(protocol);
    expect((await c.serverLive({})).live).toBe(true);
    expect((await c.serverReady({})).ready).toBe(true);
    expect((await c.modelReady({ name: "iris" })).ready).toBe(true);
    expect((await c.serverMetadata({})).name).toBe("fake-worker");
    expect((await c.modelMetadata({ name: "iris" })).inputs[0]!.shape).toEqual([-1n, 4n]);
    expect((await c.modelInfer(infer)).outputs[0]!.name).toBe("input_out");
    expect((await c.modelStatistics({})).modelStats[0]!.inferenceCount).toBe(3n);
  });

  it("applies the pipeline's checks (invalid_argument naming the tensor)", async () => {
    const error = await setup().client(protocol).modelInfer({ ...infer, inputs: [{ name: "input", datatype: "FP32", shape: [1n, 5n] }] }).catch((e) => e);
    expect(error.code).toBe(Code.InvalidArgument);
    expect(error.rawMessage).toMatch(/input "input": raw contents hold 16 bytes/);
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
    const big = { ...infer, inputs: [{ name: "input", datatype: "FP32", shape: [16n, 4n] }], rawInputContents: [new Uint8Array(256)] };
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

  it("answers a wrong HTTP method and a wrong content-type with a 4xx and a message that says what to send", async () => {
    const { edgeFetch } = setup();
    const get = await edgeFetch(`${BASE}/inference.GRPCInferenceService/ModelInfer`, { method: "GET" });
    expect(get.status).toBe(405);
    expect(get.headers.get("allow")).toBe("POST");
    expect(await get.json()).toEqual({ code: "invalid_argument", message: "GET is not allowed for /inference.GRPCInferenceService/ModelInfer: use POST" });
    const text = await edgeFetch(`${BASE}/inference.GRPCInferenceService/ModelInfer`, { method: "POST", headers: { "content-type": "text/plain" }, body: "{}" });
    expect(text.status).toBe(415);
    const body = (await text.json()) as any;
    expect(body.code).toBe("invalid_argument");
    expect(body.message).toMatch(/^content-type "text\/plain" is not served here: send application\/proto or application\/json/);
    // gRPC-Web's base64 text variant: connect-es matches it, then answers an empty 415.
    const b64 = await edgeFetch(`${BASE}/inference.GRPCInferenceService/ModelInfer`, { method: "POST", headers: { "content-type": "application/grpc-web-text" }, body: "AAAAAAA=" });
    expect(b64.status).toBe(415);
    expect(((await b64.json()) as any).message).toMatch(/^content-type "application\/grpc-web-text" is not served here/);
  });
});

/** The grpc-status and decoded grpc-message of a gRPC-Web answer that is one trailer frame. */
async function grpcWebTrailer(res: Response): Promise<{ status: number; code: number; message: string; trailer: string }> {
  const bytes = new Uint8Array(await res.arrayBuffer());
  const trailer = res.headers.get("grpc-status") !== null
    ? `grpc-status: ${res.headers.get("grpc-status")}\r\ngrpc-message: ${res.headers.get("grpc-message")}\r\n`
    : new TextDecoder().decode(bytes.subarray(5));
  const code = Number(/grpc-status: (\d+)/.exec(trailer)?.[1]);
  const message = decodeURIComponent(/grpc-message: ([^\r]*)/.exec(trailer)?.[1] ?? "");
  return { status: res.status, code, message, trailer };
}

describe("malformed requests are the client's fault (issue 9, item 8)", () => {
  const PATH = `${BASE}/inference.GRPCInferenceService/ModelInfer`;
  const grpcWeb = (body: Uint8Array, headers: Record<string, string> = {}) =>
    setup().edgeFetch(PATH, { method: "POST", headers: { "content-type": "application/grpc-web+proto", ...headers }, body });

  it("gRPC-Web: a compressed (or unknown) envelope flag without grpc-encoding is invalid_argument, not internal", async () => {
    for (const flag of [0x01, 0x7f]) {
      const answer = await grpcWebTrailer(await grpcWeb(new Uint8Array([flag, 0, 0, 0, 2, 0x0a, 0x00])));
      expect(answer.code, answer.trailer).toBe(Code.InvalidArgument);
      expect(answer.message).toMatch(/compressed flag .* set, but the request names no encoding; .* send flags 0/);
    }
  });

  it("gRPC-Web: an envelope announcing 4 GiB is resource_exhausted naming MAX_BODY_BYTES, not readMaxBytes", async () => {
    const answer = await grpcWebTrailer(await grpcWeb(new Uint8Array([0, 0xff, 0xff, 0xff, 0xff, 1])));
    expect(answer.code).toBe(Code.ResourceExhausted);
    expect(answer.message).toBe("request message of 4294967295 bytes exceeds 8388608 bytes (MAX_BODY_BYTES)");
  });

  it("gRPC-Web: a unary call with no message or two is invalid_argument", async () => {
    const none = await grpcWebTrailer(await grpcWeb(new Uint8Array(0)));
    expect([none.code, none.message]).toEqual([Code.InvalidArgument, "a unary call takes exactly one request message, and the body held none"]);
    const two = await grpcWebTrailer(await grpcWeb(new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0, 0, 0])));
    expect([two.code, two.message]).toEqual([Code.InvalidArgument, "a unary call takes exactly one request message, and the body held more than one"]);
  });

  it("gRPC-Web: a grpc-encoding the edge does not take is unimplemented, naming what it accepts", async () => {
    const res = await grpcWeb(new Uint8Array([1, 0, 0, 0, 2, 0x0a, 0x00]), { "grpc-encoding": "gzip" });
    expect(res.headers.get("grpc-accept-encoding")).toBe("identity");
    const answer = await grpcWebTrailer(res);
    expect([answer.status, answer.code]).toEqual([200, Code.Unimplemented]);
    expect(answer.message).toMatch(/^grpc-encoding "gzip" is not accepted: this gateway takes uncompressed requests only \(identity\)/);
  });

  it("Connect: an unsupported content-encoding is unimplemented with HTTP 415 and Accept-Encoding, not a 5xx", async () => {
    for (const encoding of ["br", "gzip", "x-nonsense"]) {
      const res = await setup().edgeFetch(PATH, { method: "POST", headers: { "content-type": "application/json", "content-encoding": encoding }, body: "{}" });
      expect(res.status).toBe(415);
      expect(res.headers.get("accept-encoding")).toBe("identity");
      const body = (await res.json()) as any;
      expect(body.code).toBe("unimplemented");
      expect(body.message).toBe(`content-encoding "${encoding}" is not accepted: this gateway takes uncompressed requests only (identity); send the body without content-encoding`);
    }
  });

  it("REST: a compressed body is refused with 415 before it is read, whatever it holds", async () => {
    for (const encoding of ["br", "gzip"]) {
      const res = await setup().edgeFetch(`${BASE}/v2/models/iris/infer`, {
        method: "POST", headers: { "content-type": "application/json", "content-encoding": encoding }, body: "{}",
      });
      expect(res.status).toBe(415);
      expect(res.headers.get("accept-encoding")).toBe("identity");
      expect(((await res.json()) as any).error).toMatch(new RegExp(`^content-encoding "${encoding}" is not accepted`));
    }
    // identity is no compression at all.
    const plain = await setup().edgeFetch(`${BASE}/v2/models/iris/infer`, {
      method: "POST", headers: { "content-type": "application/json", "content-encoding": "identity" }, body: "{}",
    });
    expect(plain.status).toBe(400);
  });

  it("a full worker queue and no worker carry Retry-After over Connect and gRPC-Web", async () => {
    const impl = { ...echoImpl, modelInfer: () => { throw new ConnectError("queue full", Code.ResourceExhausted); } };
    for (const protocol of ["connect-json", "grpc-web"] as const) {
      const full = await setup({}, impl).client(protocol).modelInfer(infer).catch((e) => e);
      expect([full.code, full.metadata.get("retry-after")]).toEqual([Code.ResourceExhausted, "1"]);
      const gone = { ...echoImpl, modelInfer: () => { throw new ConnectError("draining", Code.Unavailable); } };
      const none = await setup({}, gone).client(protocol).modelInfer(infer).catch((e) => e);
      expect([none.code, none.metadata.get("retry-after")]).toEqual([Code.Unavailable, "1"]);
    }
  });
});


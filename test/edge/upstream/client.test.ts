import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { ModelInferCancelRequestSchema, ModelMetadataRequestSchema } from "../../../gen/inference/grpc_service_pb.js";
import { GatewayError } from "../../../edge/errors.js";
import { createRequestContext, detachedScope } from "../../../edge/pipeline/context.js";
import { createUpstream } from "../../../edge/upstream/client.js";
import { echoImpl, fakeWorkers } from "../support/fake-worker.js";

const ctx = (maxTimeoutMs = 5000) => createRequestContext({ scope: detachedScope("t"), maxTimeoutMs });
const md = create(ModelMetadataRequestSchema, { name: "iris" });
const config = (urls: string[], extra = {}) => ({ workerUrls: urls, workerToken: undefined, upstreamAttempts: 3, ...extra });
const unavailable = { ...echoImpl, modelMetadata: () => { throw new ConnectError("draining", Code.Unavailable); } };

describe("upstream client", () => {
  it("calls a worker over binary Connect with the bearer token and the remaining deadline", async () => {
    const workers = fakeWorkers({ "http://a": echoImpl });
    const upstream = createUpstream(config(["http://a"], { workerToken: "s3cret" }), { fetch: workers.fetch });
    const c = ctx(4000);
    const res = await upstream.call("modelMetadata", md, c);
    expect(res.name).toBe("iris");
    const call = workers.calls[0]!;
    expect(call.url).toBe("http://a/inference.GRPCInferenceService/ModelMetadata");
    expect(call.headers.get("content-type")).toBe("application/proto");
    expect(call.headers.get("authorization")).toBe("Bearer s3cret");
    expect(Number(call.headers.get("connect-timeout-ms"))).toBeGreaterThan(3900);
    expect(c.scope.timings.map((t) => t.name)).toEqual(["upstream"]);
    c.dispose();
  });

  it("sends no authorization header without a token", async () => {
    const workers = fakeWorkers({ "http://a": echoImpl });
    await createUpstream(config(["http://a"]), { fetch: workers.fetch }).call("modelMetadata", md, ctx());
    expect(workers.calls[0]!.headers.has("authorization")).toBe(false);
  });

  it("retries `unavailable` on a different worker", async () => {
    const workers = fakeWorkers({ "http://a": unavailable, "http://b": echoImpl });
    const res = await createUpstream(config(["http://a", "http://b"]), { fetch: workers.fetch }).call("modelMetadata", md, ctx());
    expect(res.name).toBe("iris");
    expect(workers.calls.map((c) => new URL(c.url).host)).toEqual(["a", "b"]);
  });

  it("treats an unreachable worker as unavailable and moves on", async () => {
    const workers = fakeWorkers({ "http://b": echoImpl });
    const res = await createUpstream(config(["http://down", "http://b"]), { fetch: workers.fetch }).call("modelMetadata", md, ctx());
    expect(res.name).toBe("iris");
  });

  it("does not retry other codes (not_found comes back as is)", async () => {
    const notFound = { ...echoImpl, modelMetadata: () => { throw new ConnectError('model "x" not found', Code.NotFound); } };
    const workers = fakeWorkers({ "http://a": notFound, "http://b": notFound });
    const error = await createUpstream(config(["http://a", "http://b"]), { fetch: workers.fetch }).call("modelMetadata", md, ctx()).catch((e) => e);
    expect(error).toBeInstanceOf(ConnectError);
    expect(error.code).toBe(Code.NotFound);
    expect(error.rawMessage).toBe('model "x" not found');
    expect(workers.calls).toHaveLength(1);
  });

  it("gives up after UPSTREAM_ATTEMPTS with unavailable, counting but not naming the workers tried", async () => {
    const workers = fakeWorkers({ "http://a": unavailable, "http://b": unavailable, "http://c": unavailable, "http://d": unavailable });
    const error = await createUpstream(config(["http://a", "http://b", "http://c", "http://d"], { upstreamAttempts: 3 }), { fetch: workers.fetch })
      .call("modelMetadata", md, ctx()).catch((e) => e);
    expect(error).toBeInstanceOf(GatewayError);
    expect(error.code).toBe(Code.Unavailable);
    expect(error.message).toBe("no GPU worker answered (tried 3 of 4); try again shortly");
    expect(workers.calls).toHaveLength(3);
  });

  it("stops retrying when the retry budget is spent", async () => {
    const workers = fakeWorkers({ "http://a": unavailable, "http://b": unavailable });
    const upstream = createUpstream(config(["http://a", "http://b"]), { fetch: workers.fetch, budget: { floor: 0, ratio: 0 } });
    const error = await upstream.call("modelMetadata", md, ctx()).catch((e) => e);
    expect(error.code).toBe(Code.Unavailable);
    expect(workers.calls).toHaveLength(1);
  });

  it("never retries after the deadline passed: the context's deadline error wins", async () => {
    const slow = { ...echoImpl, modelMetadata: () => new Promise<never>(() => {}) };
    const workers = fakeWorkers({ "http://a": slow, "http://b": echoImpl });
    const c = ctx(50);
    const error = await createUpstream(config(["http://a", "http://b"]), { fetch: workers.fetch }).call("modelMetadata", md, c).catch((e) => e);
    expect(error.code).toBe(Code.DeadlineExceeded);
    expect(workers.calls).toHaveLength(1);
    c.dispose();
  });

  it("spreads concurrent calls across workers", async () => {
    const workers = fakeWorkers({ "http://a": echoImpl, "http://b": echoImpl });
    const upstream = createUpstream(config(["http://a", "http://b"]), { fetch: workers.fetch });
    await Promise.all([1, 2, 3, 4].map(() => upstream.call("modelMetadata", md, ctx())));
    const hosts = workers.calls.map((c) => new URL(c.url).host);
    expect(hosts.filter((h) => h === "a")).toHaveLength(2);
  });
});

describe("upstream broadcast and call headers", () => {
  const cancel = create(ModelInferCancelRequestSchema, { modelName: "iris", id: "k" });

  it("broadcast sends to every worker once and counts the ones that failed instead of throwing", async () => {
    const answering = { ...echoImpl, modelInferCancel: () => ({ cancelled: 1 }) };
    const workers = fakeWorkers({ "http://a": answering, "http://b": answering });
    const upstream = createUpstream(config(["http://a", "http://b", "http://down"]), { fetch: workers.fetch });
    const result = await upstream.broadcast("modelInferCancel", cancel, ctx());
    expect(result.answers.map((a) => a.cancelled)).toEqual([1, 1]);
    expect(result.failed).toBe(1);
    expect(workers.calls.map((c) => new URL(c.url).host).sort()).toEqual(["a", "b", "down"]);
  });

  it("call passes extra headers to the worker, and the token still wins", async () => {
    const workers = fakeWorkers({ "http://a": echoImpl });
    const upstream = createUpstream(config(["http://a"], { workerToken: "s3cret" }), { fetch: workers.fetch });
    await upstream.call("modelMetadata", md, ctx(), { headers: { "x-gateway-call-id": "abc", authorization: "Bearer forged" } });
    expect(workers.calls[0]!.headers.get("x-gateway-call-id")).toBe("abc");
    expect(workers.calls[0]!.headers.get("authorization")).toBe("Bearer s3cret");
  });
});

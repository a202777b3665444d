// Unit tests of the GraphQL adapter in Node (yoga runs under Node 20 here),
// against the in-process fake worker: config parsing, error codes,
// coalescing (merge/split and the upstream call count), top(k).
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { ModelInferResponseSchema, type ModelInferRequest } from "../../../gen/inference/grpc_service_pb.js";
import { ConfigError } from "../../../edge/config.js";
import { createApp } from "../../../edge/index.js";
import { GatewayError } from "../../../edge/errors.js";
import { merge, split } from "../../../edge/graphql/coalesce.js";
import { parseGraphqlConfig } from "../../../edge/graphql/config.js";
import { codeName, toGraphQLError } from "../../../edge/graphql/errors.js";
import { detachedScope } from "../../../edge/pipeline/context.js";
import { inferRequestFromArgs } from "../../../edge/graphql/tensors.js";
import { echoImpl, fakeWorkers } from "../support/fake-worker.js";

function setup(impl = echoImpl, vars: Record<string, string> = {}) {
  const workers = fakeWorkers({ "http://w1": impl });
  const app = createApp({ fetch: workers.fetch });
  const env = { WORKER_URLS: "http://w1", AUTH_ANONYMOUS_PLAN: "development", ...vars };
  const post = async (body: unknown) => {
    const res = await app.request(
      "/graphql",
      { method: "POST", headers: { "content-type": "application/json", accept: "application/graphql-response+json" }, body: JSON.stringify(body) },
      env,
    );
    return { status: res.status, body: (await res.json()) as any };
  };
  return { post, workers };
}

/** The echo worker, recording every ModelInfer request it gets into `seen`. */
const recordingEcho = (seen: ModelInferRequest[]): typeof echoImpl => ({
  ...echoImpl,
  modelInfer: (req, ctx) => {
    seen.push(req);
    return echoImpl.modelInfer!(req, ctx);
  },
});

const infers = (calls: { url: string }[]) => calls.filter((c) => c.url.endsWith("/ModelInfer")).length;

describe("GraphQL config", () => {
  it("has production defaults; development turns introspection on", () => {
    const prod = parseGraphqlConfig({});
    expect(prod).toMatchObject({ maxDepth: 10, maxCost: 5000, maxAliases: 20, maxDirectives: 20, maxTokens: 2000, maxBatch: 10, introspection: false, persistedOnly: false, minIntervalMs: 500 });
    expect(parseGraphqlConfig({ ENVIRONMENT: "development" }).introspection).toBe(true);
    expect(parseGraphqlConfig({ ENVIRONMENT: "development", GRAPHQL_INTROSPECTION: "false" }).introspection).toBe(false);
  });

  it("validates the persisted-operation allow-list", () => {
    const hash = "a".repeat(64);
    expect(parseGraphqlConfig({ GRAPHQL_PERSISTED_OPERATIONS: JSON.stringify({ [hash]: "{ health { live } }" }) }).persistedOperations.get(hash)).toBe("{ health { live } }");
    expect(() => parseGraphqlConfig({ GRAPHQL_PERSISTED_ONLY: "true" })).toThrow(ConfigError);
    expect(() => parseGraphqlConfig({ GRAPHQL_PERSISTED_OPERATIONS: '{"abc": "{ a }"}' })).toThrow(/sha256/);
    expect(() => parseGraphqlConfig({ GRAPHQL_PERSISTED_OPERATIONS: "[" })).toThrow(/not valid JSON/);
    expect(() => parseGraphqlConfig({ GRAPHQL_MAX_DEPTH: "0" })).toThrow(/GRAPHQL_MAX_DEPTH/);
  });
});

describe("GraphQL error codes", () => {
  it("spells Connect codes in UPPER_SNAKE and tells rate limits from full queues", () => {
    expect(codeName(new GatewayError(Code.NotFound, "x"))).toBe("NOT_FOUND");
    expect(codeName(new GatewayError(Code.InvalidArgument, "x"))).toBe("INVALID_ARGUMENT");
    expect(codeName(new GatewayError(Code.DeadlineExceeded, "x"))).toBe("DEADLINE_EXCEEDED");
    expect(codeName(new GatewayError(Code.ResourceExhausted, "queue full"))).toBe("RESOURCE_EXHAUSTED");
    expect(codeName(new GatewayError(Code.ResourceExhausted, "slow down", { headers: { "retry-after": "3" } }))).toBe("RATE_LIMITED");
  });

  it("a rate-limit denial becomes RATE_LIMITED with retryAfterSeconds, and its headers reach the HTTP response", () => {
    const scope = detachedScope("r1");
    const error = toGraphQLError(new GatewayError(Code.ResourceExhausted, "rate limit exceeded", { headers: { "retry-after": "3" } }), scope);
    expect(error.extensions).toEqual({ code: "RATE_LIMITED", retryAfterSeconds: 3 });
    expect(scope.responseHeaders.get("retry-after")).toBe("3");
    expect(toGraphQLError(new Error("secret internals"), scope).message).toBe("internal error");
  });

  it("a worker's resource_exhausted (full queue) is RESOURCE_EXHAUSTED on that field only", async () => {
    const { post } = setup({
      ...echoImpl,
      modelInfer: () => {
        throw new ConnectError("queue full", Code.ResourceExhausted);
      },
    });
    const { status, body } = await post({
      query: '{ health { live } infer(model: "iris", inputs: [{name: "input", datatype: FP32, shape: [1, 4], data: [1, 2, 3, 4]}]) { modelName } }',
    });
    expect(status).toBe(200);
    expect(body.data).toEqual({ health: { live: true }, infer: null });
    expect(body.errors[0].extensions.code).toBe("RESOURCE_EXHAUSTED");
  });
});

describe("hostile nesting answers INVALID_ARGUMENT, never INTERNAL", () => {
  const query = "query($i: [InferInput!]!) { infer(model: \"iris\", inputs: $i) { modelName } }";
  const raw = (app: ReturnType<typeof createApp>, init: RequestInit, path = "/graphql") =>
    app.request(path, init, { WORKER_URLS: "http://w1", AUTH_ANONYMOUS_PLAN: "development" });

  it("a deeply nested element in variables is a field error INVALID_ARGUMENT", async () => {
    const { post, workers } = setup();
    let element: unknown = 1;
    for (let i = 0; i < 50; i++) element = { a: element };
    const { body } = await post({ query, variables: { i: [{ name: "x", datatype: "FP32", shape: [1], data: [element] }] } });
    expect(body.errors[0].extensions.code).toBe("INVALID_ARGUMENT");
    expect(body.errors[0].message).toMatch(/element 0 \(an object\) must be a number for FP32/);
    expect(infers(workers.calls)).toBe(0);
  });

  it("a body nested thousands of levels deep is refused with 400 before it is parsed", async () => {
    const workers = fakeWorkers({ "http://w1": echoImpl });
    const app = createApp({ fetch: workers.fetch });
    const deepObject = '{"a":'.repeat(5_000) + "1" + "}".repeat(5_000);
    const deepArray = "[".repeat(5_000) + "1" + "]".repeat(5_000);
    for (const [shape, data] of [["[1]", `[${deepObject}]`], [`[${Array(5_000).fill(1).join(",")}]`, deepArray]]) {
      const text = `{"query":${JSON.stringify(query)},"variables":{"i":[{"name":"x","datatype":"FP32","shape":${shape},"data":${data}}]}}`;
      const res = await raw(app, { method: "POST", headers: { "content-type": "application/json", accept: "application/graphql-response+json" }, body: text });
      expect(res.status).toBe(400);
      const body = (await res.json()) as any;
      expect(body.errors[0].extensions.code).toBe("INVALID_ARGUMENT");
      expect(body.errors[0].message).toMatch(/the request body nests arrays\/objects deeper than 64 levels/);
    }
    // The same through a form post and a GET query string.
    const form = new URLSearchParams({ query, variables: `{"i":[{"name":"x","datatype":"FP32","shape":[1],"data":[${deepObject}]}]}` });
    const viaForm = await raw(app, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded", "graphql-require-preflight": "1" }, body: form.toString() });
    expect(viaForm.status).toBe(400);
    const viaGet = await raw(app, { headers: { "graphql-require-preflight": "1" } }, `/graphql?${new URLSearchParams({ query: "{ health { live } }", variables: "[".repeat(200) + "]".repeat(200) })}`);
    expect(viaGet.status).toBe(400);
    expect(infers(workers.calls)).toBe(0);
  });

  it("a literal nested deeper than 64 levels is INVALID_ARGUMENT naming the bound", async () => {
    const { post } = setup();
    const literal = "[".repeat(70) + "1" + "]".repeat(70);
    const { body } = await post({ query: `{ infer(model: "iris", inputs: [{name: "x", datatype: FP32, shape: [1], data: ${literal}}]) { modelName } }` });
    expect(body.errors[0].extensions.code).toBe("INVALID_ARGUMENT");
    expect(body.errors[0].message).toMatch(/a literal argument nests arrays\/objects deeper than 64 levels/);
  });

  it("every request error carries a code: variables of the wrong type or left out are BAD_USER_INPUT", async () => {
    const { post } = setup();
    const wrong = await post({ query, variables: { i: [{ name: "x", datatype: "FP32", shape: "1x4", data: [1] }] } });
    expect(wrong.status).toBe(400);
    expect(wrong.body.errors[0]).toMatchObject({ message: expect.stringMatching(/Int cannot represent non-integer value: "1x4"/), extensions: { code: "BAD_USER_INPUT" } });
    const missing = await post({ query });
    expect(missing.status).toBe(400);
    expect(missing.body.errors[0]).toMatchObject({ message: expect.stringMatching(/"\$i" of required type/), extensions: { code: "BAD_USER_INPUT" } });
  });

  it("multipart requests (file uploads, which the schema has none of) are refused with 415", async () => {
    const app = createApp({ fetch: fakeWorkers({ "http://w1": echoImpl }).fetch });
    const form = new FormData();
    form.set("operations", JSON.stringify({ query: "{ health { live } }" }));
    form.set("map", "{}");
    const res = await raw(app, { method: "POST", headers: { "graphql-require-preflight": "1" }, body: form });
    expect(res.status).toBe(415);
    expect(((await res.json()) as any).errors[0].message).toMatch(/multipart requests .* are not accepted: send application\/json/);
  });
});

describe("coalescing", () => {
  const request = (rows: number[][], id = "") =>
    inferRequestFromArgs({ model: "m", id, inputs: [{ name: "input", datatype: "FP32", shape: [rows.length, 2], data: rows }] }, 1e6);

  it("merges along dimension 0 and splits rows back with ids", () => {
    const parts = [request([[1, 2]], "a"), request([[3, 4], [5, 6]], "b")];
    const merged = merge(parts);
    expect(merged.inputs[0]!.shape).toEqual([3n, 2n]);
    expect(Array.from(new Float32Array(merged.rawInputContents[0]!.slice().buffer))).toEqual([1, 2, 3, 4, 5, 6]);
    const response = create(ModelInferResponseSchema, {
      modelName: "m",
      modelVersion: "1",
      outputs: [{ name: "y", datatype: "FP32", shape: [3n, 2n] }],
      rawOutputContents: merged.rawInputContents,
    });
    const [a, b] = split(response, parts);
    expect(a!.id).toBe("a");
    expect(a!.outputs[0]!.shape).toEqual([1, 2]);
    expect(Array.from(a!.outputs[0]!.values as Float32Array)).toEqual([1, 2]);
    expect(b!.outputs[0]!.shape).toEqual([2, 2]);
    expect(Array.from(b!.outputs[0]!.values as Float32Array)).toEqual([3, 4, 5, 6]);
  });

  it("N same-model fields make one upstream call; a different input shape makes its own", async () => {
    const { post, workers } = setup();
    const field = (alias: string, rows: number) =>
      `${alias}: infer(model: "iris", inputs: [{name: "input", datatype: FP32, shape: [${rows}, 4], data: ${JSON.stringify(Array(rows * 4).fill(1))}}]) { outputs { shape } }`;
    const { body } = await post({ query: `{ ${field("a", 1)} ${field("b", 2)} ${field("c", 3)} }` });
    expect(body.errors).toBeUndefined();
    expect([body.data.a, body.data.b, body.data.c].map((r: any) => r.outputs[0].shape)).toEqual([[1, 4], [2, 4], [3, 4]]);
    expect(infers(workers.calls)).toBe(1);

    const odd = await post({
      query: `{ ${field("a", 1)} b: infer(model: "iris", inputs: [{name: "input", datatype: FP32, shape: [1, 2], data: [1, 2]}]) { modelName } }`,
    });
    expect(odd.body.data.a).not.toBeNull();
    expect(infers(workers.calls)).toBe(3);
  });

  it("a field with an id keeps its own upstream call (so it can be cancelled by that id) and gets its id back", async () => {
    const seen: ModelInferRequest[] = [];
    const { post, workers } = setup(recordingEcho(seen));
    const field = (alias: string, id: string) =>
      `${alias}: infer(model: "iris", ${id ? `id: "${id}", ` : ""}inputs: [{name: "input", datatype: FP32, shape: [1, 4], data: [1, 2, 3, 4]}]) { id }`;
    const { body } = await post({ query: `{ ${field("a", "")} ${field("b", "")} ${field("c", "job-c")} }` });
    expect(body.errors).toBeUndefined();
    expect(body.data.c.id).toBe("job-c");
    expect(infers(workers.calls)).toBe(2);
    const withId = workers.calls.find((c) => c.url.endsWith("/ModelInfer") && c.headers.has("x-gateway-call-id"));
    expect(withId?.headers.get("x-gateway-call-id")).toMatch(/^[0-9a-f]{64}$/);
    expect(seen.map((r) => r.id).sort()).toEqual(["", "job-c"]);
  });

  it("cancelInference reaches every worker with the caller's derived id and returns the count", async () => {
    const cancels: { model: string; id: string }[] = [];
    const { post } = setup({
      ...echoImpl,
      modelInferCancel: (req) => {
        cancels.push({ model: req.modelName, id: req.id });
        return { cancelled: 1 };
      },
    });
    const { body } = await post({ query: `mutation { cancelInference(model: "iris", id: "job-c") { cancelled } }` });
    expect(body).toEqual({ data: { cancelInference: { cancelled: 1 } } });
    expect(cancels).toHaveLength(1);
    expect(cancels[0]!.model).toBe("iris");
    // Never the caller's raw id: the worker sees one derived from the caller too.
    expect(cancels[0]!.id).toMatch(/^[0-9a-f]{64}$/);
    const missing = await post({ query: `mutation { cancelInference(model: "iris", id: "") { cancelled } }` });
    expect(missing.body.errors[0].extensions.code).toBe("INVALID_ARGUMENT");
  });

  it("respects max_batch_size: rows beyond it go in further calls", async () => {
    const seen: ModelInferRequest[] = [];
    const { post, workers } = setup({
      ...recordingEcho(seen),
      modelMetadata: (req, ctx) => ({
        ...(echoImpl.modelMetadata!(req, ctx) as object),
        parameters: { max_batch_size: { parameterChoice: { case: "int64Param", value: 4n } } },
      }) as never,
    });
    const field = (alias: string) =>
      `${alias}: infer(model: "iris", inputs: [{name: "input", datatype: FP32, shape: [2, 4], data: ${JSON.stringify(Array(8).fill(1))}}]) { modelName }`;
    const { body } = await post({ query: `{ ${field("a")} ${field("b")} ${field("c")} }` });
    expect(body.errors).toBeUndefined();
    expect(infers(workers.calls)).toBe(2);
    expect(seen.map((r) => r.inputs[0]!.shape[0])).toEqual([4n, 2n]);
  });
});

describe("top(k)", () => {
  it("ranks classes per row and attaches labels from the labels:<output> metadata parameter", async () => {
    const { post } = setup({
      ...echoImpl,
      modelMetadata: (req, ctx) => ({
        ...(echoImpl.modelMetadata!(req, ctx) as object),
        parameters: { "labels:input_out": { parameterChoice: { case: "stringParam", value: '["a","b","c","d"]' } } },
      }) as never,
    });
    const { body } = await post({
      query: '{ infer(model: "iris", inputs: [{name: "input", datatype: FP32, shape: [2, 4], data: [0.1, 0.7, 0.2, 0, 0.9, 0, 0, 0.1]}]) { top(k: 2) { row classes { index label score } } } }',
    });
    expect(body.errors).toBeUndefined();
    const top = body.data.infer.top;
    expect(top[0].classes.map((c: any) => c.label)).toEqual(["b", "c"]);
    expect(top[1].classes[0]).toMatchObject({ index: 0, label: "a" });
  });
});

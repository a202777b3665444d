import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it, vi } from "vitest";
import { createApp } from "../../../edge/index.js";
import { echoImpl, fakeWorkers } from "../support/fake-worker.js";

function setup(workers = fakeWorkers({ "http://w1": echoImpl }), vars: Record<string, string> = {}) {
  const app = createApp({ fetch: workers.fetch });
  // Anonymous access (off by default) stands in for credentials; auth has its own tests.
  const env = { WORKER_URLS: "http://w1", CORS_ORIGINS: "https://app.example", AUTH_ANONYMOUS_PLAN: "development", ...vars };
  const call = (path: string, init?: RequestInit) => app.request(path, init, env);
  const post = (path: string, body: unknown) =>
    call(path, { method: "POST", headers: { "content-type": "application/json" }, body: typeof body === "string" ? body : JSON.stringify(body) });
  return { call, post, workers };
}

describe("REST routes", () => {
  it("GET /v2/health/live answers from the edge itself with request id and Server-Timing", async () => {
    const { call, workers } = setup();
    const res = await call("/v2/health/live", { headers: { "x-request-id": "abc-1" } });
    expect(res.status).toBe(200);
    expect((await res.json()) as any).toEqual({ live: true });
    expect(res.headers.get("x-request-id")).toBe("abc-1");
    expect(res.headers.get("server-timing")).toMatch(/edge;dur=\d+/);
    expect(workers.calls).toHaveLength(0);
  });

  it("GET /v2/health/ready is 200 when a worker is ready and 503 {ready:false} when none answers", async () => {
    expect(await (await setup().call("/v2/health/ready")).json()).toEqual({ ready: true });
    const res = await setup(fakeWorkers({})).call("/v2/health/ready");
    expect(res.status).toBe(503);
    expect((await res.json()) as any).toEqual({ ready: false });
  });

  it("GET /v2 returns server metadata", async () => {
    expect(await (await setup().call("/v2")).json()).toEqual({ name: "fake-worker", version: "9", extensions: ["model_repository"] });
  });

  it("GET /v2/models/:name[/versions/:v] returns metadata; version reaches the worker", async () => {
    const seen: string[] = [];
    const workers = fakeWorkers({ "http://w1": { ...echoImpl, modelMetadata: (req, ctx) => { seen.push(req.version); return echoImpl.modelMetadata!(req, ctx); } } });
    const { call } = setup(workers);
    const res = await call("/v2/models/iris/versions/2");
    expect((await res.json()) as any).toEqual({
      name: "iris", versions: ["1"], platform: "onnxruntime_onnx",
      inputs: [{ name: "input", datatype: "FP32", shape: [-1, 4] }],
      outputs: [{ name: "label", datatype: "INT64", shape: [-1, 1] }],
      parameters: { max_batch_size: 64 },
    });
    await call("/v2/models/iris");
    expect(seen).toEqual(["2", ""]);
    const upstream = res.headers.get("server-timing")!;
    expect(upstream).toMatch(/(^|, )upstream;dur=\d+, edge;dur=\d+$/);
  });

  it("model ready is 200/503 with {ready}", async () => {
    const { call } = setup();
    expect((await call("/v2/models/iris/ready")).status).toBe(200);
    const res = await call("/v2/models/other/versions/1/ready");
    expect(res.status).toBe(503);
    expect((await res.json()) as any).toEqual({ ready: false });
  });

  it("POST infer converts JSON to binary for the worker and back, keeping big INT64 digits", async () => {
    const { post } = setup();
    const res = await post("/v2/models/iris/infer", {
      id: "r1",
      inputs: [
        { name: "a", datatype: "FP32", shape: [2, 2], data: [[1, 2], [3, 4.5]] },
        { name: "b", datatype: "INT64", shape: [2], data: ["9007199254740993", -1] },
        { name: "c", datatype: "BYTES", shape: [1], data: ["hi"] },
      ],
    });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toContain('"data":[9007199254740993,-1]');
    expect(JSON.parse(text)).toMatchObject({
      model_name: "iris", model_version: "1", id: "r1",
      outputs: [
        { name: "a_out", datatype: "FP32", shape: [2, 2], data: [1, 2, 3, 4.5] },
        { name: "b_out", datatype: "INT64", shape: [2] },
        { name: "c_out", datatype: "BYTES", shape: [1], data: ["hi"] },
      ],
    });
  });

  it.each([
    ["malformed JSON", "{nope", 400, /^request body is not valid JSON: /],
    ["data length mismatch", { inputs: [{ name: "a", datatype: "FP32", shape: [3], data: [1] }] }, 400, /input "a": data holds 1 values but shape \[3\] needs 3/],
    ["too many elements", { inputs: [{ name: "a", datatype: "FP32", shape: [5000, 5000], data: [] }] }, 413, /more than 4194304 elements in total \(MAX_TENSOR_ELEMENTS\)/],
  ])("POST infer rejects %s with {error}", async (_name, body, status, message) => {
    const { post, workers } = setup();
    const res = await post("/v2/models/iris/infer", body);
    expect(res.status).toBe(status);
    expect(((await res.json()) as any).error).toMatch(message);
    expect(workers.calls).toHaveLength(0);
  });

  it("POST infer answers 400 (not 500) for JSON nested thousands of levels deep, in data, shape or an element", async () => {
    const { post, workers } = setup();
    const deep = (n: number) => "[".repeat(n) + "1" + "]".repeat(n);
    const deepObject = '{"a":'.repeat(5_000) + "1" + "}".repeat(5_000);
    for (const body of [
      `{"inputs":[{"name":"x","datatype":"FP32","shape":[${Array(5_000).fill(1).join(",")}],"data":${deep(5_000)}}]}`,
      `{"inputs":[{"name":"x","datatype":"FP32","shape":[1],"data":[${deepObject}]}]}`,
      `{"inputs":[{"name":"x","datatype":"FP32","shape":[${deep(5_000)}],"data":[1]}]}`,
      `{"id":"12345678901234567890","inputs":${deep(20_000)}}`,
    ]) {
      const res = await post("/v2/models/iris/infer", body);
      expect(res.status).toBe(400);
      expect(((await res.json()) as any).error).toMatch(/deeper than 64 levels; tensor "data" may nest at most as deep as its shape's rank/);
    }
    expect(workers.calls).toHaveLength(0);
  });

  it("POST infer and cancel refuse bodies that are not sent as JSON with 415 naming application/json", async () => {
    const { call } = setup();
    const body = JSON.stringify({ inputs: [{ name: "input", datatype: "FP32", shape: [1, 4], data: [1, 2, 3, 4] }] });
    for (const type of ["text/plain;charset=UTF-8", "application/x-protobuf", "application/x-www-form-urlencoded", "application/octet-stream", "multipart/form-data; boundary=x"]) {
      for (const path of ["/v2/models/iris/infer", "/v2/models/iris/cancel"]) {
        const res = await call(path, { method: "POST", headers: { "content-type": type }, body });
        expect(res.status, `${type} ${path}`).toBe(415);
        expect(((await res.json()) as any).error).toMatch(/^content-type ".+" is not accepted here: send the body as JSON with "content-type: application\/json"/);
      }
    }
    // JSON spelled any usual way, and no content type at all (clients that send none), are read as JSON.
    for (const headers of <Record<string, string>[]>[{ "content-type": "application/json; charset=utf-8" }, { "content-type": "Application/JSON" }, { "content-type": "application/vnd.oip+json" }, {}]) {
      const res = await call("/v2/models/iris/infer", { method: "POST", headers, body: new TextEncoder().encode(body) });
      expect(res.status, JSON.stringify(headers)).toBe(200);
    }
  });

  it("POST infer refuses OIP parameters of the wrong type with 400 naming the parameter and its type", async () => {
    const { post, workers } = setup();
    const tensor = { name: "a", datatype: "FP32", shape: [1], data: [1] };
    const res = await post("/v2/models/iris/infer", { inputs: [tensor], parameters: { binary_data_output: "yes" } });
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).error).toBe('request: parameter "binary_data_output" must be a boolean (true or false), not "yes"');
    const classification = await post("/v2/models/iris/infer", { inputs: [tensor], outputs: [{ name: "a_out", parameters: { classification: "two" } }] });
    expect(classification.status).toBe(400);
    expect(((await classification.json()) as any).error).toMatch(/output "a_out": parameter "classification" must be a non-negative integer/);
    expect(workers.calls).toHaveLength(0);
  });

  it("maps worker errors to HTTP statuses and keeps their messages", async () => {
    const cases: [Code, number][] = [[Code.NotFound, 404], [Code.InvalidArgument, 400], [Code.ResourceExhausted, 429], [Code.DeadlineExceeded, 504]];
    for (const [code, status] of cases) {
      const workers = fakeWorkers({ "http://w1": { ...echoImpl, modelInfer: () => { throw new ConnectError(`boom ${code}`, code); } } });
      const res = await setup(workers).post("/v2/models/iris/infer", { inputs: [{ name: "a", datatype: "FP32", shape: [1], data: [1] }] });
      expect(res.status).toBe(status);
      expect((await res.json()) as any).toEqual({ error: `boom ${code}` });
    }
  });

  it("turns a worker refusing the edge's token into a 500 that blames the edge's config, not a 401", async () => {
    const workers = fakeWorkers({ "http://w1": { ...echoImpl, modelInfer: () => { throw new ConnectError("bad token", Code.Unauthenticated); } } });
    const res = await setup(workers).post("/v2/models/iris/infer", { inputs: [{ name: "a", datatype: "FP32", shape: [1], data: [1] }] });
    expect(res.status).toBe(500);
    expect(((await res.json()) as any).error).toMatch(/edge misconfigured: .*WORKER_TOKEN/);
  });

  it("answers 503 without naming worker addresses when none is reachable", async () => {
    const res = await setup(fakeWorkers({}), { WORKER_URLS: "http://w1,http://w2" }).call("/v2/models/iris");
    expect(res.status).toBe(503);
    const { error } = (await res.json()) as any;
    expect(error).toMatch(/^no GPU worker answered \(tried 2 of 2\)/);
    expect(error).not.toContain("http://");
  });

  it("rejects bodies over MAX_BODY_BYTES with 413 by Content-Length and when chunked", async () => {
    const { call } = setup(undefined, { MAX_BODY_BYTES: "100" });
    const big = "x".repeat(200);
    const res = await call("/v2/models/iris/infer", { method: "POST", body: big, headers: { "content-length": "200" } });
    expect(res.status).toBe(413);
    expect((await res.json()) as any).toEqual({ error: "request body exceeds 100 bytes (MAX_BODY_BYTES)" });
    const stream = new ReadableStream({ start(c) { c.enqueue(new TextEncoder().encode(big)); c.close(); } });
    const chunked = await call("/v2/models/iris/infer", { method: "POST", body: stream, duplex: "half" } as RequestInit);
    expect(chunked.status).toBe(413);
  });

  it("answers unknown routes with 404 {error}", async () => {
    const res = await setup().call("/nope");
    expect(res.status).toBe(404);
    expect((await res.json()) as any).toEqual({ error: "no route for GET /nope" });
  });

  it("answers a misconfigured edge with 500 naming the variable", async () => {
    const spy = vi.spyOn(console, "error").mockImplementation(() => {});
    const res = await setup(undefined, { WORKER_URLS: "" }).call("/v2/health/live");
    expect(res.status).toBe(500);
    expect(((await res.json()) as any).error).toMatch(/^edge misconfigured: WORKER_URLS is required/);
    spy.mockRestore();
  });

  it("answers CORS preflights for configured origins with Connect and custom headers", async () => {
    const res = await setup().call("/v2/models/iris/infer", {
      method: "OPTIONS",
      headers: { origin: "https://app.example", "access-control-request-method": "POST" },
    });
    expect(res.headers.get("access-control-allow-origin")).toBe("https://app.example");
    const allowed = res.headers.get("access-control-allow-headers")!.toLowerCase();
    for (const h of ["connect-protocol-version", "x-grpc-web", "authorization", "x-api-key"]) expect(allowed).toContain(h);
    const other = await setup().call("/v2/health/live", { headers: { origin: "https://evil.example" } });
    expect(other.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("exposes x-cache, server-timing, retry-after, ratelimit and x-request-id to browsers", async () => {
    const res = await setup().call("/v2/health/live", { headers: { origin: "https://app.example" } });
    const exposed = res.headers.get("access-control-expose-headers")!.toLowerCase();
    for (const h of ["x-cache", "server-timing", "retry-after", "ratelimit", "ratelimit-policy", "x-request-id", "grpc-status"]) {
      expect(exposed).toContain(h);
    }
  });
});

describe("REST cancel route", () => {
  const counting = (cancelled: number) => ({ ...echoImpl, modelInferCancel: () => ({ cancelled }) });

  it("sums what every worker cancelled; a worker that fails does not fail the cancel", async () => {
    const workers = fakeWorkers({ "http://w1": counting(1), "http://w2": counting(0) });
    const { post } = setup(workers, { WORKER_URLS: "http://w1,http://w2,http://down" });
    const res = await post("/v2/models/iris/cancel", { id: "job-1" });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ model_name: "iris", id: "job-1", cancelled: 1 });
    expect(workers.calls.filter((c) => c.url.endsWith("/ModelInferCancel"))).toHaveLength(3);
  });

  it("answers 503 when no worker took the cancellation", async () => {
    const { post } = setup(fakeWorkers({ "http://w1": echoImpl }), { WORKER_URLS: "http://w1,http://down" });
    // echoImpl has no modelInferCancel (unimplemented) and http://down refuses connections.
    const res = await post("/v2/models/iris/cancel", { id: "job-1" });
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: string }).error).toMatch(/no GPU worker took the cancellation/);
  });

  it("refuses a body without an id, naming the field", async () => {
    const res = await setup().post("/v2/models/iris/cancel", { job: "x" });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toMatch(/id is required: the id the call was sent with/);
  });
});

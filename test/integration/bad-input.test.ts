// Pins down that bad input gets a clear 4xx (REST) or the right Connect code,
// never a crash, a hang or a 5xx, whatever the body holds.
import { Code, ConnectError } from "@connectrpc/connect";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { codeOf, edgeClient, restCall } from "../support/clients.js";
import { startEdge, type EdgeHandle } from "../support/edge-runtime.js";
import { IRIS_ROWS, irisRequest, irisRestBody } from "../support/iris.js";
import { startWorker, type WorkerHandle } from "../support/worker-process.js";

const MAX_BODY_BYTES = 64 * 1024;
let worker: WorkerHandle;
let edge: EdgeHandle;
let infer: string;

beforeAll(async () => {
  worker = await startWorker();
  edge = await startEdge({ WORKER_URLS: worker.url, MAX_BODY_BYTES: String(MAX_BODY_BYTES) });
  infer = `${edge.url}/v2/models/iris/infer`;
});

afterAll(async () => {
  await edge?.dispose();
  await worker?.stop();
});

const input = (overrides: Record<string, unknown>) => ({
  inputs: [{ name: "input", datatype: "FP32", shape: [1, 4], data: IRIS_ROWS[0], ...overrides }],
});

describe("REST rejects bad input with a 4xx and a message that says what to fix", () => {
  const INFER = "EDGE/v2/models/iris/infer";
  const cases: [string, string, unknown, number, RegExp][] = [
    ["malformed JSON", INFER, '{"inputs": [', 400, /json/i],
    ["a body that is not an object", INFER, "[1,2,3]", 400, /inputs/i],
    ["unknown model", "EDGE/v2/models/no-such-model/infer", irisRestBody(), 404, /no-such-model/],
    ["unknown version", "EDGE/v2/models/iris/versions/99/infer", irisRestBody(), 404, /99/],
    ["missing input", INFER, { inputs: [] }, 400, /input/],
    ["extra input", INFER, { inputs: [...input({}).inputs, { name: "extra", datatype: "FP32", shape: [1], data: [1] }] }, 400, /extra/],
    ["wrong datatype", INFER, input({ datatype: "INT32", data: [5, 3, 1, 0] }), 400, /FP32|datatype/],
    ["unknown datatype", INFER, input({ datatype: "FLOAT" }), 400, /datatype/i],
    ["wrong shape", INFER, input({ shape: [1, 5], data: [1, 2, 3, 4, 5] }), 400, /shape|dim/i],
    ["data length not matching the shape", INFER, input({ shape: [2, 4] }), 400, /8|length|element/i],
    ["non-numeric data", INFER, input({ data: ["a", "b", "c", "d"] }), 400, /number|numeric/i],
    ["negative dimension", INFER, input({ shape: [-1, 4] }), 400, /shape|dimension/i],
    ["batch above max_batch_size", INFER, irisRestBody(Array.from({ length: 65 }, () => IRIS_ROWS[0]!)), 400, /batch|64/],
  ];
  for (const [what, url, body, status, message] of cases) {
    it(`${what} → ${status}`, async () => {
      const response = await restCall(url.replace("EDGE", edge.url), body);
      expect(response.status, response.text).toBe(status);
      expect(typeof response.json?.error, response.text).toBe("string");
      expect(response.json.error).toMatch(message);
    });
  }

  it("an oversized body sent with Content-Length → 413", async () => {
    const big = JSON.stringify({ inputs: [{ name: "input", datatype: "FP32", shape: [1, 4], data: [1, 2, 3, 4] }], pad: "x".repeat(MAX_BODY_BYTES) });
    const response = await restCall(infer, big);
    expect(response.status).toBe(413);
    expect(response.json.error).toMatch(/MAX_BODY_BYTES|exceeds/);
  });

  it("an oversized body sent chunked (no Content-Length) → 413", async () => {
    const chunk = new TextEncoder().encode("x".repeat(16 * 1024));
    let sent = 0;
    // Paced, as a real upload: the edge answers 413 as soon as it has read past
    // the limit and closes. Sent all at once, unread bytes would still sit in
    // the edge's socket when it closes, and the TCP reset that causes can
    // destroy the 413 before the client reads it (the client then sees
    // ECONNRESET, not the answer).
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        await new Promise((r) => setTimeout(r, 10));
        if (sent++ < 8) controller.enqueue(chunk);
        else controller.close();
      },
    });
    const response = await fetch(infer, { method: "POST", body, headers: { "content-type": "application/json" }, duplex: "half" } as RequestInit);
    expect(response.status).toBe(413);
  });
});

describe("Connect rejects bad input with the right code", () => {

  it("malformed protobuf → invalid_argument (not internal)", async () => {
    const response = await fetch(`${edge.url}/inference.GRPCInferenceService/ModelInfer`, {
      method: "POST",
      headers: { "content-type": "application/proto", "connect-protocol-version": "1" },
      body: new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01]),
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { code: string; message: string };
    expect(body.code).toBe("invalid_argument");
  });

  it("unknown model → not_found, wrong shape → invalid_argument naming the tensor", async () => {
    const client = edgeClient(edge.url, "connect-binary");
    const unknown = irisRequest();
    unknown.modelName = "no-such-model";
    expect(await codeOf(client.modelInfer(unknown))).toBe(Code.NotFound);

    const wrongShape = irisRequest();
    wrongShape.inputs[0]!.shape = [4n, 3n];
    try {
      await client.modelInfer(wrongShape);
      expect.unreachable();
    } catch (error) {
      const e = ConnectError.from(error);
      expect(e.code).toBe(Code.InvalidArgument);
      expect(e.rawMessage).toMatch(/input/);
    }
  });

  it("raw contents shorter than the shape → invalid_argument", async () => {
    const request = irisRequest();
    request.rawInputContents = [request.rawInputContents[0]!.subarray(0, 10)];
    expect(await codeOf(edgeClient(edge.url, "grpc-web").modelInfer(request))).toBe(Code.InvalidArgument);
  });
});

describe("property: random bodies never produce a 5xx", () => {
  const datatype = fc.constantFrom("FP32", "FP16", "INT64", "INT8", "UINT8", "BOOL", "BYTES", "FP64", "BF16", "nope", "");
  // Random REST bodies (with deep nesting, wrong types and odd content types) are fuzzed in edge-fuzz.test.ts.

  it("600 random Connect bodies (random bytes and random messages): never a 5xx", async () => {
    const randomMessage = fc.record({
      modelName: fc.constantFrom("iris", "mlp-wide", "nope", ""),
      inputs: fc.array(
        fc.record({ name: fc.constantFrom("input", "x"), datatype, shape: fc.array(fc.bigInt({ min: -2n, max: 70n }), { maxLength: 3 }) }),
        { maxLength: 2 },
      ),
      rawInputContents: fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 2 }),
    });
    const client = edgeClient(edge.url, "connect-binary");
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.uint8Array({ maxLength: 256 }), randomMessage), async (payload) => {
        if (payload instanceof Uint8Array) {
          const response = await fetch(`${edge.url}/inference.GRPCInferenceService/ModelInfer`, {
            method: "POST",
            headers: { "content-type": "application/proto" },
            body: payload,
          });
          await response.arrayBuffer();
          expect(response.status).toBeLessThan(500);
          return;
        }
        try {
          await client.modelInfer(payload);
        } catch (error) {
          const code = ConnectError.from(error).code;
          expect([Code.Internal, Code.Unknown, Code.Unavailable, Code.DataLoss, Code.Unimplemented]).not.toContain(code);
        }
      }),
      { numRuns: 600, seed: 20261124 },
    );
    // Bounded by runs, not by time: a loaded machine only makes it slower.
  }, 180_000);

  it("the worker is still healthy after the fuzzing", async () => {
    expect((await restCall(infer, irisRestBody())).status).toBe(200);
    expect(worker.process.exitCode).toBeNull();
  });
});

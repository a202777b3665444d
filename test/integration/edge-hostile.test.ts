// Hostile input at the edge, REST and GraphQL (Connect and gRPC-Web have their
// own file), against the real bundle in workerd and a real worker process:
// oversized, deeply nested, truncated, mis-typed, huge arrays and strings,
// and bounded floods. Every answer is a 4xx with a message that says what to
// fix (`error` for REST, `extensions.code` for GraphQL), no process exits,
// and both health probes answer within 1 s throughout. Limits are tested at,
// just under and just over their value.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEdge, type EdgeHandle } from "../support/edge-runtime.js";
import { IRIS_ROWS } from "../support/iris.js";
import { startWorker, type WorkerHandle } from "../support/worker-process.js";

const MAX_BODY_BYTES = 64 * 1024;
const MAX_TENSOR_ELEMENTS = 200; // 50 iris rows: within max_batch_size (64), so only this limit decides
const PROBE_LIMIT_MS = 1_000;

let worker: WorkerHandle;
let edge: EdgeHandle;

beforeAll(async () => {
  worker = await startWorker();
  edge = await startEdge({
    WORKER_URLS: worker.url,
    MAX_BODY_BYTES: String(MAX_BODY_BYTES),
    MAX_TENSOR_ELEMENTS: String(MAX_TENSOR_ELEMENTS),
  });
});

afterAll(async () => {
  await edge?.dispose();
  await worker?.stop();
});

interface Answer {
  status: number;
  text: string;
  json: any;
}

async function send(path: string, body: RequestInit["body"], headers: Record<string, string> = { "content-type": "application/json" }): Promise<Answer> {
  const response = await fetch(`${edge.url}${path}`, { method: body === undefined ? "GET" : "POST", headers, body });
  const text = await response.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, text, json };
}

const rest = (body: unknown, headers?: Record<string, string>, model = "iris") =>
  send(`/v2/models/${model}/infer`, typeof body === "string" || body instanceof Uint8Array ? body : JSON.stringify(body), headers);

const GRAPHQL_HEADERS = { "content-type": "application/json", accept: "application/graphql-response+json" };
const graphql = (body: unknown, headers: Record<string, string> = GRAPHQL_HEADERS) =>
  send("/graphql", typeof body === "string" ? body : JSON.stringify(body), headers);

/** Both health probes, each timed; the worker and the edge must still be there. */
async function probe(): Promise<void> {
  for (const url of [`${edge.url}/v2/health/live`, `${worker.url}/v2/health/live`]) {
    const started = performance.now();
    const response = await fetch(url);
    await response.arrayBuffer();
    const ms = performance.now() - started;
    expect(response.status, url).toBe(200);
    expect(ms, `${url} answered in ${ms.toFixed(0)} ms`).toBeLessThan(PROBE_LIMIT_MS);
  }
  expect(worker.process.exitCode).toBeNull();
  expect(worker.process.signalCode).toBeNull();
}

/** A REST answer: the status, and `{"error"}` with a useful, bounded message. */
function expectRestError(answer: Answer, status: number, message: RegExp): void {
  expect(answer.status, answer.text.slice(0, 300)).toBe(status);
  expect(typeof answer.json?.error, answer.text.slice(0, 300)).toBe("string");
  expect(answer.json.error).toMatch(message);
  expect(answer.text.length, "error bodies stay short whatever was sent").toBeLessThan(2_048);
}

/** A GraphQL answer: < 500, and every error has a code that is not INTERNAL. */
function expectGraphqlErrors(answer: Answer, code: string | RegExp, status?: number): void {
  if (status !== undefined) expect(answer.status, answer.text.slice(0, 300)).toBe(status);
  expect(answer.status, answer.text.slice(0, 300)).toBeLessThan(500);
  const errors = answer.json?.errors as { message: string; extensions?: { code?: string } }[] | undefined;
  expect(errors?.length, answer.text.slice(0, 300)).toBeGreaterThan(0);
  for (const error of errors!) {
    expect(error.extensions?.code, error.message).toMatch(code);
    expect(error.extensions?.code).not.toBe("INTERNAL");
  }
  expect(answer.text.length, "error bodies stay short whatever was sent").toBeLessThan(4_096);
}

const iris = (rows: number, extra: Record<string, unknown> = {}) => ({
  inputs: [{ name: "input", datatype: "FP32", shape: [rows, 4], data: Array.from({ length: rows }, (_, i) => IRIS_ROWS[i % 3]!) }],
  ...extra,
});
const nested = (depth: number, leaf = "1") => "[".repeat(depth) + leaf + "]".repeat(depth);
const nestedObject = (depth: number) => '{"a":'.repeat(depth) + "1" + "}".repeat(depth);
/** JSON text of `value` with a "pad" string member (at `where`) making it exactly `bytes` long (ASCII). */
function padded(value: Record<string, unknown>, bytes: number, where: (pad: string) => Record<string, unknown> = (pad) => ({ pad })): string {
  const empty = JSON.stringify({ ...value, ...where("") });
  const text = JSON.stringify({ ...value, ...where("p".repeat(bytes - empty.length)) });
  expect(text.length).toBe(bytes);
  return text;
}

describe("REST: hostile bodies get a 4xx that says what to fix", () => {
  const cases: [string, () => Promise<Answer>, number, RegExp][] = [
    ["truncated JSON", () => rest('{"inputs":[{"name":"input","datatype":"FP32","shape":[1,4],"data":[1,2'), 400, /not valid JSON/],
    ["an empty body", () => rest(""), 400, /not valid JSON/],
    ["invalid UTF-8 bytes", () => rest(new Uint8Array([0x7b, 0xff, 0xfe, 0x22, 0x7d])), 400, /not valid JSON/],
    ["a bare null", () => rest("null"), 400, /must be a JSON object/],
    ["data nested 5000 deep", () => rest(`{"inputs":[{"name":"input","datatype":"FP32","shape":[1],"data":${nested(5_000)}}]}`), 400, /deeper than 64 levels/],
    ["an element nested 5000 deep", () => rest(`{"inputs":[{"name":"input","datatype":"FP32","shape":[1,4],"data":[${nestedObject(5_000)},1,2,3]}]}`), 400, /deeper than 64 levels/],
    ["a dimension nested deep within the bound", () => rest(`{"inputs":[{"name":"input","datatype":"FP32","shape":[${nested(50)},4],"data":[1,2,3,4]}]}`), 400, /shape\[0\] is an array of 1; shape must hold non-negative integers/],
    ["a shape of rank 40", () => rest({ inputs: [{ name: "input", datatype: "FP32", shape: Array(40).fill(1), data: [1] }] }), 400, /shape has 40 dimensions; at most 32/],
    ["a huge data array", () => rest({ inputs: [{ name: "input", datatype: "FP32", shape: [1, 4], data: Array(12_000).fill(0) }] }), 400, /data holds 12000 values but shape \[1, 4\] needs 4/],
    ["a huge string element", () => rest({ inputs: [{ name: "input", datatype: "FP32", shape: [1, 4], data: ["z".repeat(60_000), 1, 2, 3] }] }), 400, /element 0 \("z+…"\) must be a number for FP32/],
    ["a huge dimension product", () => rest({ inputs: [{ name: "input", datatype: "FP32", shape: [2 ** 40, 2 ** 12], data: [] }] }), 413, /MAX_TENSOR_ELEMENTS/],
    ["a non-string id", () => rest(iris(1, { id: { $ne: "" } })), 400, /"id" must be a string/],
    ["outputs as an object", () => rest(iris(1, { outputs: { name: "label" } })), 400, /"outputs" must be an array/],
    ["inputs as a string", () => rest({ inputs: "input" }), 400, /"inputs" must be a non-empty array/],
    ["binary_data_output as a string", () => rest(iris(1, { parameters: { binary_data_output: "yes" } })), 400, /parameter "binary_data_output" must be a boolean/],
    ["classification as a fraction", () => rest(iris(1, { outputs: [{ name: "probabilities", parameters: { classification: 1.5 } }] })), 400, /parameter "classification" must be a non-negative integer/],
    ["parameters as an array", () => rest(iris(1, { parameters: [true] })), 400, /"parameters" must be an object/],
    ["a text/plain body", () => rest(iris(1), { "content-type": "text/plain" }), 415, /application\/json/],
    ["a protobuf content type", () => rest(iris(1), { "content-type": "application/x-protobuf" }), 415, /application\/json/],
    ["a form content type (curl -d without -H)", () => rest(iris(1), { "content-type": "application/x-www-form-urlencoded" }), 415, /curl: -H 'content-type: application\/json'/],
    ["a cancel nested deep", () => send("/v2/models/iris/cancel", `{"id":${nested(5_000, '"x"')}}`), 400, /deeper than 64 levels/],
    ["a cancel with a non-string id", () => send("/v2/models/iris/cancel", '{"id":["x"]}'), 400, /"id" must be a string/],
  ];
  for (const [what, call, status, message] of cases) {
    it(`${what} → ${status}`, async () => {
      expectRestError(await call(), status, message);
      await probe();
    });
  }

  it("a body with no content type is read as JSON (clients that send none)", async () => {
    const answer = await send("/v2/models/iris/infer", new TextEncoder().encode(JSON.stringify(iris(1))), {});
    expect(answer.status, answer.text).toBe(200);
  });
});

describe("REST: limits at, just under and just over their value", () => {
  it(`MAX_BODY_BYTES (${MAX_BODY_BYTES}): under and at answer 200, one byte over answers 413`, async () => {
    expect((await rest(padded(iris(1), MAX_BODY_BYTES - 1))).status).toBe(200);
    expect((await rest(padded(iris(1), MAX_BODY_BYTES))).status).toBe(200);
    expectRestError(await rest(padded(iris(1), MAX_BODY_BYTES + 1)), 413, /MAX_BODY_BYTES/);
    await probe();
  });

  it(`MAX_TENSOR_ELEMENTS (${MAX_TENSOR_ELEMENTS}): under and at answer 200, over answers 413 naming the limit`, async () => {
    const rows = MAX_TENSOR_ELEMENTS / 4;
    expect((await rest(iris(rows - 1))).status).toBe(200);
    expect((await rest(iris(rows))).status).toBe(200);
    expectRestError(await rest(iris(rows + 1)), 413, /more than 200 elements in total \(MAX_TENSOR_ELEMENTS\)/);
    await probe();
  });
});

describe("GraphQL: hostile requests get a 4xx or a coded field error, never INTERNAL", () => {
  const infer = "query($i: [InferInput!]!) { infer(model: \"iris\", inputs: $i) { outputs { name } } }";
  const variables = (input: Record<string, unknown>) => ({ query: infer, variables: { i: [{ name: "input", datatype: "FP32", shape: [1, 4], data: [1, 2, 3, 4], ...input }] } });
  const cases: [string, () => Promise<Answer>, string | RegExp, number?][] = [
    ["truncated JSON", () => graphql('{"query":"{ health { live } }'), "BAD_REQUEST", 400],
    ["a body nested 5000 deep in variables", () => graphql(`{"query":${JSON.stringify(infer)},"variables":{"i":[{"name":"input","datatype":"FP32","shape":[1],"data":${nested(5_000)}}]}}`), "INVALID_ARGUMENT", 400],
    ["an element nested 5000 deep", () => graphql(`{"query":${JSON.stringify(infer)},"variables":{"i":[{"name":"input","datatype":"FP32","shape":[1,4],"data":[${nestedObject(5_000)},1,2,3]}]}}`), "INVALID_ARGUMENT", 400],
    ["an element nested within the bound", () => graphql(variables({ data: [JSON.parse(nestedObject(40)), 1, 2, 3] })), "INVALID_ARGUMENT"],
    ["a shape of rank 40", () => graphql(variables({ shape: Array(40).fill(1), data: [1] })), "INVALID_ARGUMENT"],
    ["a shape that is not a list of Int", () => graphql(variables({ shape: "1x4" })), "BAD_USER_INPUT", 400],
    ["a required variable left out", () => graphql({ query: infer }), "BAD_USER_INPUT", 400],
    ["a syntax error", () => graphql({ query: "{ health { " }), "GRAPHQL_PARSE_FAILED", 400],
    ["an unknown field", () => graphql({ query: "{ nope }" }), "GRAPHQL_VALIDATION_FAILED", 400],
    ["a huge data array", () => graphql(variables({ data: Array(12_000).fill(0) })), "INVALID_ARGUMENT"],
    ["a huge string element", () => graphql(variables({ data: ["z".repeat(60_000), 1, 2, 3] })), "INVALID_ARGUMENT"],
    ["a non-object parameters", () => graphql({ query: 'query($p: Parameters) { infer(model: "iris", inputs: [{name: "input", datatype: FP32, shape: [1, 4], data: [1, 2, 3, 4]}], parameters: $p) { modelName } }', variables: { p: [1] } }), /^(BAD_USER_INPUT|INVALID_ARGUMENT)$/, 400],
    ["binary_data_output as a string", () => graphql({ query: '{ infer(model: "iris", inputs: [{name: "input", datatype: FP32, shape: [1, 4], data: [1, 2, 3, 4]}], parameters: {binary_data_output: "yes"}) { modelName } }' }), "INVALID_ARGUMENT"],
    ["a literal nested 70 deep", () => graphql({ query: `{ infer(model: "iris", inputs: [{name: "input", datatype: FP32, shape: [1], data: ${nested(70)}}]) { modelName } }` }), "INVALID_ARGUMENT"],
    ["a query that is not a string", () => graphql({ query: { "{": 1 } }), "BAD_REQUEST", 400],
    ["a query of 30000 braces", () => graphql({ query: "{".repeat(30_000) }), "GRAPHQL_PARSE_FAILED", 400],
    ["a query of 9000 tokens", () => graphql({ query: `{ ${"health { live } ".repeat(2_250)}}` }), "MAX_TOKENS_EXCEEDED", 400],
    ["60 aliases", () => graphql({ query: `{ ${Array.from({ length: 60 }, (_, i) => `a${i}: health { live }`).join(" ")} }` }), "MAX_ALIASES_EXCEEDED", 400],
    ["a multipart upload", () => send("/graphql", (() => { const f = new FormData(); f.set("operations", '{"query":"{ health { live } }"}'); f.set("map", "{}"); return f; })(), { "graphql-require-preflight": "1" }), "UNSUPPORTED_MEDIA_TYPE", 415],
  ];
  for (const [what, call, code, status] of cases) {
    it(`${what}`, async () => {
      expectGraphqlErrors(await call(), code, status);
      await probe();
    });
  }

  it(`MAX_BODY_BYTES (${MAX_BODY_BYTES}) holds on /graphql: under and at answer 200, one byte over answers 413`, async () => {
    const query = { query: "{ health { live } }" };
    // Yoga refuses unknown top-level members, so the padding is an unused variable.
    const pad = (text: string) => ({ variables: { pad: text } });
    for (const bytes of [MAX_BODY_BYTES - 1, MAX_BODY_BYTES]) {
      const answer = await graphql(padded(query, bytes, pad));
      expect(answer.status, answer.text.slice(0, 200)).toBe(200);
      expect(answer.json.data).toEqual({ health: { live: true } });
    }
    const over = await graphql(padded(query, MAX_BODY_BYTES + 1, pad));
    expect(over.status).toBe(413);
    expect(over.text).toMatch(/MAX_BODY_BYTES/);
    await probe();
  });

  it(`MAX_TENSOR_ELEMENTS (${MAX_TENSOR_ELEMENTS}) holds on GraphQL infer: at passes, over is RESOURCE_EXHAUSTED naming the limit`, async () => {
    const rows = (n: number) => ({ query: infer, variables: { i: iris(n).inputs } });
    expect((await graphql(rows(MAX_TENSOR_ELEMENTS / 4))).json.errors).toBeUndefined();
    const over = await graphql(rows(MAX_TENSOR_ELEMENTS / 4 + 1));
    expectGraphqlErrors(over, "RESOURCE_EXHAUSTED");
    expect(over.json.errors[0].message).toMatch(/MAX_TENSOR_ELEMENTS/);
  });
});

describe("floods (bounded) leave both tiers responsive", () => {
  it("100 concurrent hostile requests (deep, huge, malformed; REST and GraphQL) all get a 4xx while health answers within 1 s", async () => {
    const deepRest = `{"inputs":[{"name":"input","datatype":"FP32","shape":[1],"data":${nested(30_000)}}]}`;
    const deepGraphql = `{"query":"{ health { live } }","variables":{"x":${nested(30_000)}}}`;
    const hugeArray = JSON.stringify({ inputs: [{ name: "input", datatype: "FP32", shape: [1, 4], data: Array(12_000).fill(1) }] });
    const senders = [
      () => rest(deepRest),
      () => graphql(deepGraphql),
      () => rest(hugeArray),
      () => rest('{"inputs":[{"name":'),
      () => rest(iris(1), { "content-type": "text/plain" }),
    ];
    let flooding = true;
    const probes = (async () => {
      let count = 0;
      while (flooding || count === 0) {
        await probe();
        count++;
      }
      return count;
    })();
    const answers = await Promise.all(Array.from({ length: 100 }, (_, i) => senders[i % senders.length]!()));
    flooding = false;
    expect(await probes).toBeGreaterThan(0);
    for (const answer of answers) {
      expect(answer.status, answer.text.slice(0, 200)).toBeGreaterThanOrEqual(400);
      expect(answer.status, answer.text.slice(0, 200)).toBeLessThan(500);
    }
    await probe();
    expect((await rest(iris(3))).status).toBe(200);
  }, 120_000);
});

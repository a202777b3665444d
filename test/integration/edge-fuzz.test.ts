// Property-based fuzzing at the edge (the real bundle in workerd, a real
// worker behind it): REST inference bodies and GraphQL variables, shaped like
// real requests but with hostile parts (deep nesting, wrong types, huge
// numbers, odd strings, truncated text, protocol parameters of every type).
// Property: never a 5xx, and every failure is a JSON error a client can read
// (`{"error"}` for REST, coded `errors` for GraphQL). Runs are bounded so the
// file takes seconds; seeds are fixed so a failure reproduces.
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEdge, type EdgeHandle } from "../support/edge-runtime.js";
import { startWorker, type WorkerHandle } from "../support/worker-process.js";

let worker: WorkerHandle;
let edge: EdgeHandle;

beforeAll(async () => {
  worker = await startWorker();
  edge = await startEdge({ WORKER_URLS: worker.url, MAX_BODY_BYTES: String(64 * 1024), MAX_TENSOR_ELEMENTS: "4096" });
});

afterAll(async () => {
  await edge?.dispose();
  await worker?.stop();
});

// ---- arbitraries ------------------------------------------------------------

const scalar = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.double(),
  fc.integer(),
  fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }).map((n) => Number(n)),
  fc.constantFrom("NaN", "Infinity", "-Infinity", "", "1", "-1", "18446744073709551616", "\u0000", "\uD800", "👍"),
  fc.string({ maxLength: 12 }),
);
const jsonValue = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "medium", maxDepth: 6 },
    scalar,
    fc.array(tie("value"), { maxLength: 4 }),
    fc.dictionary(fc.string({ maxLength: 8 }), tie("value"), { maxKeys: 3 }),
  ),
})).value;
/** Arrays nested `depth` levels around a leaf: from harmless to far past the bound. */
const deepArray = fc.tuple(fc.integer({ min: 1, max: 400 }), scalar).map(([depth, leaf]) => {
  let value: unknown = leaf;
  for (let i = 0; i < depth; i++) value = [value];
  return value;
});
const datatype = fc.constantFrom("FP32", "FP16", "BF16", "FP64", "INT8", "INT64", "UINT64", "UINT8", "BOOL", "BYTES", "fp32", "", "STRING");
const shape = fc.oneof(
  fc.constant([1, 4]),
  fc.array(fc.integer({ min: -2, max: 70 }), { maxLength: 4 }),
  fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 30, maxLength: 40 }),
  fc.array(fc.oneof(fc.integer({ min: 0, max: 2 ** 40 }), scalar), { maxLength: 3 }),
  jsonValue,
);
const data = fc.oneof(
  fc.array(fc.double(), { maxLength: 16 }),
  fc.array(fc.array(fc.double({ noNaN: true }), { maxLength: 4 }), { maxLength: 4 }),
  fc.array(jsonValue, { maxLength: 6 }),
  deepArray,
  jsonValue,
);
/** Protocol parameters with their right and wrong types, and arbitrary ones. */
const parameters = fc.oneof(
  fc.dictionary(
    fc.constantFrom("binary_data_output", "binary_data", "classification", "sequence_id", "sequence_start", "priority", "timeout", "shared_memory_region", "binary_data_size", "x"),
    fc.oneof(scalar, jsonValue),
    { maxKeys: 3 },
  ),
  jsonValue,
);
const tensor = fc.record(
  { name: fc.constantFrom("input", "x", "", "input\u0000"), datatype, shape, data, parameters },
  { requiredKeys: ["name", "datatype", "shape", "data"] },
);
const restBody = fc.oneof(
  fc.record(
    {
      id: fc.oneof(fc.string({ maxLength: 140 }), scalar),
      inputs: fc.oneof(fc.array(tensor, { maxLength: 3 }), jsonValue),
      outputs: fc.oneof(fc.array(fc.record({ name: fc.constantFrom("label", "probabilities", "nope"), parameters }, { requiredKeys: ["name"] }), { maxLength: 3 }), jsonValue),
      parameters,
    },
    { requiredKeys: ["inputs"] },
  ),
  jsonValue,
);
/** The text sent: the body as JSON, cut short, or with a deep tail spliced in. */
const restText = fc.oneof(
  { weight: 4, arbitrary: restBody.map((body) => JSON.stringify(body) ?? "null") },
  restBody.chain((body) => {
    const text = JSON.stringify(body) ?? "null";
    return fc.integer({ min: 0, max: text.length }).map((cut) => text.slice(0, cut));
  }),
  // Deep JSON where each walk or message would meet it: data, an element, a dimension, a parameter.
  fc.tuple(
    fc.integer({ min: 30, max: 20_000 }),
    fc.constantFrom("[", '{"a":'),
    fc.constantFrom(
      (deep: string) => `{"inputs":[{"name":"input","datatype":"FP32","shape":[1,4],"data":${deep}}]}`,
      (deep: string) => `{"inputs":[{"name":"input","datatype":"FP32","shape":[1,4],"data":[${deep},1,2,3]}]}`,
      (deep: string) => `{"inputs":[{"name":"input","datatype":"INT64","shape":[1],"data":[${deep}]}]}`,
      (deep: string) => `{"inputs":[{"name":"input","datatype":"FP32","shape":[${deep},4],"data":[1,2,3,4]}]}`,
      (deep: string) => `{"parameters":{"priority":${deep}},"inputs":[{"name":"input","datatype":"FP32","shape":[1,4],"data":[1,2,3,4]}]}`,
    ),
  ).map(([depth, open, place]) => place(open.repeat(depth) + "1" + (open === "[" ? "]" : "}").repeat(depth))),
  fc.string({ maxLength: 40 }),
);
const contentType = fc.oneof(
  { weight: 6, arbitrary: fc.constant("application/json") },
  fc.constantFrom(undefined, "text/plain", "application/x-protobuf", "application/json; charset=utf-8", "application/x-www-form-urlencoded", "application/grpc-web", ""),
);

// ---- properties ---------------------------------------------------------------

async function post(path: string, body: string, headers: Record<string, string>) {
  const response = await fetch(`${edge.url}${path}`, { method: "POST", headers, body });
  const text = await response.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, text, json };
}

describe("edge fuzzing: never a 5xx, always a readable JSON error", () => {
  it("REST: 400 random inference bodies, content types and models", async () => {
    await fc.assert(
      fc.asyncProperty(restText, contentType, fc.constantFrom("iris", "mlp-wide", "nope"), async (text, type, model) => {
        const headers: Record<string, string> = type === undefined ? {} : { "content-type": type };
        const answer = await post(`/v2/models/${model}/infer`, text, headers);
        expect(answer.status, answer.text.slice(0, 300)).toBeLessThan(500);
        if (answer.status !== 200) {
          expect(typeof answer.json?.error, answer.text.slice(0, 300)).toBe("string");
          expect(answer.json.error.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: 400, seed: 20261202 },
    );
    // Bounded by runs; the generous timeout only keeps a loaded machine from failing it.
  }, 180_000);

  it("GraphQL: 300 random variables for infer (and for parameters)", async () => {
    const query = `query($i: [InferInput!]!, $p: Parameters, $id: String) {
      infer(model: "iris", inputs: $i, parameters: $p, id: $id) { modelName outputs { name shape data } }
    }`;
    const variables = fc.record(
      { i: fc.oneof(fc.array(tensor, { maxLength: 2 }), jsonValue), p: parameters, id: fc.oneof(fc.string({ maxLength: 8 }), scalar) },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(variables, async (vars) => {
        const answer = await post("/graphql", JSON.stringify({ query, variables: vars }), {
          "content-type": "application/json",
          accept: "application/graphql-response+json",
        });
        expect(answer.status, answer.text.slice(0, 300)).toBeLessThan(500);
        expect(answer.json, answer.text.slice(0, 300)).toBeTypeOf("object");
        for (const error of (answer.json.errors ?? []) as { message: string; extensions?: { code?: unknown } }[]) {
          expect(typeof error.extensions?.code, error.message).toBe("string");
          expect(error.extensions!.code, error.message).not.toBe("INTERNAL");
        }
        if (answer.json.errors === undefined) expect(answer.json.data?.infer?.modelName).toBe("iris");
      }),
      { numRuns: 300, seed: 20261203 },
    );
  }, 180_000);

  it("both tiers are still up and serve a real request after the fuzzing", async () => {
    expect((await fetch(`${edge.url}/v2/health/live`)).status).toBe(200);
    expect((await fetch(`${worker.url}/v2/health/live`)).status).toBe(200);
    const answer = await post("/v2/models/iris/infer", JSON.stringify({ inputs: [{ name: "input", datatype: "FP32", shape: [1, 4], data: [5.1, 3.5, 1.4, 0.2] }] }), { "content-type": "application/json" });
    expect(answer.status, answer.text).toBe(200);
    expect(worker.process.exitCode).toBeNull();
  });
});

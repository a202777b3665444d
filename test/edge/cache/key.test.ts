import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { InferTensorContentsSchema, ModelInferRequestSchema, type ModelInferRequest } from "../../../gen/inference/grpc_service_pb.js";
import { cacheKey, canonicalRequest } from "../../../edge/cache/key.js";
import type { Principal } from "../../../edge/auth/types.js";
import type { ModelInfo } from "../../../edge/catalogue/types.js";
import { ALICE, BOB, MODEL } from "./support.js";

const model = MODEL;
const alice = ALICE;
const bob = BOB;

/** Fields to add to a request under test (outputs, parameters, id). */
type Extra = Pick<MessageInitShape<typeof ModelInferRequestSchema> & { $typeName?: undefined }, "id" | "outputs" | "parameters">;

const ROWS = [5.1, 3.5, 1.4, 0.2, 6.3, 3.3, 6.0, 2.5];

function raw(values = ROWS, extra: Extra = {}): ModelInferRequest {
  return create(ModelInferRequestSchema, {
    modelName: "iris",
    inputs: [{ name: "input", datatype: "FP32", shape: [BigInt(values.length / 4), 4n] }],
    rawInputContents: [new Uint8Array(new Float32Array(values).buffer)],
    ...extra,
  });
}

function typed(values = ROWS, extra: Extra = {}): ModelInferRequest {
  return create(ModelInferRequestSchema, {
    modelName: "iris",
    inputs: [{ name: "input", datatype: "FP32", shape: [BigInt(values.length / 4), 4n], contents: { fp32Contents: values } }],
    ...extra,
  });
}

const key = (request: ModelInferRequest, m: ModelInfo = model, who: Principal = alice) => cacheKey(who, m, request);

describe("cache key", () => {
  it("does not key a request the worker refuses like its valid twin: raw contents beside an (empty) `contents {}`", async () => {
    const twin = raw();
    twin.inputs[0]!.contents = create(InferTensorContentsSchema, {});
    expect(await key(twin)).toBeNull();
    const full = raw();
    full.inputs[0]!.contents = create(InferTensorContentsSchema, { fp32Contents: ROWS });
    expect(await key(full)).toBeNull();
    // The valid forms still share one key.
    expect(await key(raw())).toBe(await key(typed()));
  });

  it("is the same for raw and typed contents of the same tensor (REST vs Connect)", async () => {
    expect(await key(raw())).toBe(await key(typed()));
    expect(canonicalRequest(model, raw())).toEqual(canonicalRequest(model, typed()));
  });

  it("agrees between raw and typed for every typed datatype", async () => {
    const cases: [string, ArrayBufferView, Record<string, unknown>][] = [
      ["BOOL", new Uint8Array([1, 0, 1]), { boolContents: [true, false, true] }],
      ["UINT8", new Uint8Array([0, 7, 255]), { uintContents: [0, 7, 255] }],
      ["UINT16", new Uint16Array([0, 7, 65535]), { uintContents: [0, 7, 65535] }],
      ["UINT32", new Uint32Array([0, 7, 4294967295]), { uintContents: [0, 7, 4294967295] }],
      ["UINT64", new BigUint64Array([0n, 7n, 2n ** 64n - 1n]), { uint64Contents: [0n, 7n, 2n ** 64n - 1n] }],
      ["INT8", new Int8Array([-128, 7, 127]), { intContents: [-128, 7, 127] }],
      ["INT16", new Int16Array([-1, 7, 300]), { intContents: [-1, 7, 300] }],
      ["INT32", new Int32Array([-1, 7, 2 ** 31 - 1]), { intContents: [-1, 7, 2 ** 31 - 1] }],
      ["INT64", new BigInt64Array([-1n, 7n, 2n ** 63n - 1n]), { int64Contents: [-1n, 7n, 2n ** 63n - 1n] }],
      ["FP32", new Float32Array([0.1, -2, 3.5]), { fp32Contents: [0.1, -2, 3.5] }],
      ["FP64", new Float64Array([0.1, -2, 3.5]), { fp64Contents: [0.1, -2, 3.5] }],
    ];
    for (const [datatype, values, contents] of cases) {
      const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
      const a = create(ModelInferRequestSchema, {
        modelName: "echo",
        inputs: [{ name: "x", datatype, shape: [3n] }],
        rawInputContents: [bytes],
      });
      const b = create(ModelInferRequestSchema, { modelName: "echo", inputs: [{ name: "x", datatype, shape: [3n], contents }] });
      expect(await key(a), datatype).toBe(await key(b));
    }
  });

  it("agrees between raw and typed BYTES (length-prefixed elements)", async () => {
    const items = [new TextEncoder().encode("hello"), new Uint8Array(0), new TextEncoder().encode("wörld")];
    const rawBytes = new Uint8Array(items.reduce((n, i) => n + 4 + i.length, 0));
    let at = 0;
    for (const item of items) {
      new DataView(rawBytes.buffer).setUint32(at, item.length, true);
      rawBytes.set(item, at + 4);
      at += 4 + item.length;
    }
    const a = create(ModelInferRequestSchema, { modelName: "echo", inputs: [{ name: "s", datatype: "BYTES", shape: [3n] }], rawInputContents: [rawBytes] });
    const b = create(ModelInferRequestSchema, { modelName: "echo", inputs: [{ name: "s", datatype: "BYTES", shape: [3n], contents: { bytesContents: items } }] });
    expect(await key(a)).toBe(await key(b));
  });

  it("differs when a tensor value, shape or datatype differs", async () => {
    const base = await key(raw());
    expect(await key(raw([...ROWS.slice(0, 7), 2.6]))).not.toBe(base);
    const reshaped = raw();
    reshaped.inputs[0]!.shape = [4n, 2n];
    expect(await key(reshaped)).not.toBe(base);
    const retyped = raw();
    retyped.inputs[0]!.datatype = "INT32";
    expect(await key(retyped)).not.toBe(base);
  });

  it("ignores the request id", async () => {
    expect(await key(raw(ROWS, { id: "a" }))).toBe(await key(raw(ROWS, { id: "b" })));
  });

  it("ignores the order of requested outputs and of inputs, not their set", async () => {
    const ab = raw(ROWS, { outputs: [{ name: "label" }, { name: "probabilities" }] });
    const ba = raw(ROWS, { outputs: [{ name: "probabilities" }, { name: "label" }] });
    const one = raw(ROWS, { outputs: [{ name: "label" }] });
    expect(await key(ab)).toBe(await key(ba));
    expect(await key(one)).not.toBe(await key(ab));
    expect(await key(one)).not.toBe(await key(raw()));

    const x = new Uint8Array([1, 2, 3, 4]);
    const y = new Uint8Array([5, 6, 7, 8]);
    const xy = create(ModelInferRequestSchema, {
      modelName: "m",
      inputs: [{ name: "x", datatype: "UINT8", shape: [4n] }, { name: "y", datatype: "UINT8", shape: [4n] }],
      rawInputContents: [x, y],
    });
    const yx = create(ModelInferRequestSchema, {
      modelName: "m",
      inputs: [{ name: "y", datatype: "UINT8", shape: [4n] }, { name: "x", datatype: "UINT8", shape: [4n] }],
      rawInputContents: [y, x],
    });
    expect(await key(xy)).toBe(await key(yx));
  });

  it("sorts parameters, includes output parameters, ignores scheduling-only request parameters", async () => {
    const p = (case_: "int64Param", value: bigint) => ({ parameterChoice: { case: case_, value } });
    const s = (value: string) => ({ parameterChoice: { case: "stringParam" as const, value } });
    const a = raw(ROWS, { parameters: { top_k: p("int64Param", 3n), mode: s("x") } });
    const b = raw(ROWS, { parameters: { mode: s("x"), top_k: p("int64Param", 3n) } });
    expect(await key(a)).toBe(await key(b));
    expect(await key(raw(ROWS, { parameters: { top_k: p("int64Param", 4n), mode: s("x") } }))).not.toBe(await key(a));
    expect(await key(raw(ROWS, { parameters: { priority: p("int64Param", 1n), timeout: p("int64Param", 5n) } }))).toBe(
      await key(raw()),
    );
    const o1 = raw(ROWS, { outputs: [{ name: "label", parameters: { classification: p("int64Param", 2n) } }] });
    const o2 = raw(ROWS, { outputs: [{ name: "label" }] });
    expect(await key(o1)).not.toBe(await key(o2));
  });

  it("changes with the resolved model version and the model name", async () => {
    expect(await key(raw(), { ...model, version: "2" })).not.toBe(await key(raw()));
    expect(await key(raw(), { ...model, name: "iris2" })).not.toBe(await key(raw()));
  });

  it("prefixes the tenant for private models only", async () => {
    const privateA = await key(raw(), model, alice);
    const privateB = await key(raw(), model, bob);
    expect(privateA).toMatch(/^cache:v1:t:alice:[0-9a-f]{64}$/);
    expect(privateB).toMatch(/^cache:v1:t:bob:[0-9a-f]{64}$/);
    expect(privateA).not.toBe(privateB);
    const publicA = await key(raw(), { ...model, cachePublic: true }, alice);
    const publicB = await key(raw(), { ...model, cachePublic: true }, bob);
    expect(publicA).toMatch(/^cache:v1:[0-9a-f]{64}$/);
    expect(publicA).toBe(publicB);
  });

  it("refuses (null) typed integers outside the datatype, which could alias another key", async () => {
    const bad = create(ModelInferRequestSchema, { modelName: "echo", inputs: [{ name: "x", datatype: "INT8", shape: [1n], contents: { intContents: [300] } }] });
    expect(await key(bad)).toBeNull();
  });
});

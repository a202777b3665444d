import { describe, expect, it } from "vitest";
import { decodeRaw, fp16BitsToNumber, bf16BitsToNumber, type Datatype } from "../../../common/oip/index.js";
import { GatewayError } from "../../../edge/errors.js";
import { parseJsonBody } from "../../../edge/rest/json-body.js";
import { MAX_JSON_DEPTH, MAX_TENSOR_RANK } from "../../../edge/rest/json-limits.js";
import { inferRequestFromJson } from "../../../edge/rest/json-tensors.js";

const target = { modelName: "m", modelVersion: "" };
const one = (datatype: string, data: unknown, shape: unknown = [Array.isArray(data) ? data.length : 1], extra = {}) =>
  inferRequestFromJson({ inputs: [{ name: "x", datatype, shape, data, ...extra }] }, target);
const decoded = (datatype: Datatype, data: unknown[], shape = [data.length]) => {
  const req = one(datatype, data, shape);
  const count = shape.reduce((a, b) => a * b, 1);
  return decodeRaw(datatype, req.rawInputContents[0]!, count);
};
const fails = (fn: () => unknown, message: RegExp | string) => {
  let error: unknown;
  try { fn(); } catch (e) { error = e; }
  expect(error).toBeInstanceOf(GatewayError);
  expect((error as GatewayError).code).toBe(3);
  expect((error as GatewayError).message).toMatch(message);
};

describe("JSON -> ModelInferRequest: every datatype lands as raw little-endian bytes", () => {
  it.each([
    ["UINT8", [0, 255], Uint8Array],
    ["UINT16", [0, 65535], Uint16Array],
    ["UINT32", [0, 4294967295], Uint32Array],
    ["INT8", [-128, 127], Int8Array],
    ["INT16", [-32768, 32767], Int16Array],
    ["INT32", [-2147483648, 2147483647], Int32Array],
    ["FP32", [1.5, -0.25], Float32Array],
    ["FP64", [0.1, -1e300], Float64Array],
  ] as const)("%s keeps its values", (datatype, data, ctor) => {
    const values = decoded(datatype, [...data]);
    expect(values).toBeInstanceOf(ctor);
    expect(Array.from(values as ArrayLike<number>)).toEqual(data);
  });

  it("BOOL takes true/false as bytes 1/0", () => {
    expect(Array.from(decoded("BOOL", [true, false, true]) as Uint8Array)).toEqual([1, 0, 1]);
  });

  it("INT64/UINT64 accept safe numbers, bigints from exact parsing, and decimal strings at the limits", () => {
    expect(Array.from(decoded("INT64", [-5, "-9223372036854775808", 9223372036854775807n]) as BigInt64Array)).toEqual([
      -5n, -9223372036854775808n, 9223372036854775807n,
    ]);
    expect(Array.from(decoded("UINT64", ["18446744073709551615", 0]) as BigUint64Array)).toEqual([18446744073709551615n, 0n]);
  });

  it("FP16 and BF16 are converted from numbers to their bit patterns", () => {
    const fp16 = decoded("FP16", [1, -2.5, 65504, "Infinity"]) as Uint16Array;
    expect(Array.from(fp16, fp16BitsToNumber)).toEqual([1, -2.5, 65504, Infinity]);
    const bf16 = decoded("BF16", [1, -2.5, 3.140625]) as Uint16Array;
    expect(Array.from(bf16, bf16BitsToNumber)).toEqual([1, -2.5, 3.140625]);
  });

  it("BYTES written into one buffer keep every string's exact UTF-8 (multi-byte, emoji, lone surrogates, empties)", () => {
    const strings = ["", "a", "héllo", "👍🏽 ok", "\uD800", "日本語", "", "x".repeat(1000)];
    const many = Array.from({ length: 5000 }, (_, i) => strings[i % strings.length]!);
    const values = decoded("BYTES", many) as Uint8Array[];
    const utf8 = new TextEncoder();
    expect(values).toHaveLength(many.length);
    values.forEach((bytes, i) => expect(Array.from(bytes)).toEqual(Array.from(utf8.encode(many[i]))));
    const raw = one("BYTES", many).rawInputContents[0]!;
    expect(raw.byteLength).toBe(many.reduce((n, text) => n + 4 + utf8.encode(text).byteLength, 0));
  });

  it("BYTES are UTF-8 strings with 4-byte length prefixes", () => {
    const values = decoded("BYTES", ["héllo", ""]) as Uint8Array[];
    expect(values.map((b) => new TextDecoder().decode(b))).toEqual(["héllo", ""]);
  });

  it("nested row-major data is flattened in order", () => {
    const values = decoded("INT32", [[[1, 2], [3, 4]], [[5, 6], [7, 8]]], [2, 2, 2]) as Int32Array;
    expect(Array.from(values)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it("zero-element tensors and scalars (shape []) work", () => {
    expect(one("FP32", [], [0]).rawInputContents[0]!.byteLength).toBe(0);
    expect(one("FP32", [2], []).rawInputContents[0]!.byteLength).toBe(4);
  });

  it("carries id, parameters, shape and requested outputs; binary_data:false is dropped", () => {
    const req = inferRequestFromJson(
      {
        id: "r1",
        parameters: { flag: true, n: 3, f: 0.5, s: "x", big: 18446744073709551615n },
        inputs: [{ name: "x", datatype: "FP32", shape: [1, 2], data: [1, 2], parameters: { p: "q" } }],
        outputs: [{ name: "y", parameters: { binary_data: false, top_k: 2 } }],
      },
      { modelName: "iris", modelVersion: "2" },
    );
    expect(req).toMatchObject({ modelName: "iris", modelVersion: "2", id: "r1" });
    expect(req.inputs[0]!.shape).toEqual([1n, 2n]);
    expect(req.parameters.flag!.parameterChoice).toEqual({ case: "boolParam", value: true });
    expect(req.parameters.n!.parameterChoice).toEqual({ case: "int64Param", value: 3n });
    expect(req.parameters.f!.parameterChoice).toEqual({ case: "doubleParam", value: 0.5 });
    expect(req.parameters.big!.parameterChoice).toEqual({ case: "uint64Param", value: 18446744073709551615n });
    expect(req.inputs[0]!.parameters.p!.parameterChoice).toEqual({ case: "stringParam", value: "q" });
    expect(Object.keys(req.outputs[0]!.parameters)).toEqual(["top_k"]);
  });
});

describe("JSON -> ModelInferRequest: validation says what to fix and names the tensor", () => {
  it.each<[string, () => unknown, RegExp]>([
    ["body not an object", () => inferRequestFromJson([1], target), /must be a JSON object/],
    ["no inputs", () => inferRequestFromJson({ inputs: [] }, target), /"inputs" must be a non-empty array/],
    ["input without name", () => inferRequestFromJson({ inputs: [{ datatype: "FP32", shape: [1], data: [1] }] }, target), /inputs\[0\] needs a "name"/],
    ["missing datatype", () => one(undefined as never, [1]), /input "x" needs a "datatype"/],
    ["unknown datatype", () => one("FLOAT", [1]), /input "x": unknown datatype "FLOAT"/],
    ["negative dimension", () => one("FP32", [1], [-1]), /input "x": shape\[0\] is -1; shape must hold non-negative integers/],
    ["fractional dimension", () => one("FP32", [1], [1.5]), /non-negative integers/],
    ["missing shape", () => one("FP32", [1], "4"), /input "x" needs a "shape"/],
    ["missing data", () => one("FP32", undefined, [1]), /input "x" needs "data"/],
    ["data not an array", () => one("FP32", 5, [1]), /"data" must be an array/],
    ["length mismatch", () => one("FP32", [1, 2, 3], [2, 2]), /input "x": data holds 3 values but shape \[2, 2\] needs 4/],
    ["nested mismatch", () => one("FP32", [[1, 2], [3]], [2, 2]), /input "x": data\[1\] has 1 entries but shape \[2, 2\] needs 2 at dimension 1/],
    ["nested too deep", () => one("FP32", [[[1], [2]], [[3], [4]]], [2, 2]), /nested deeper than shape/],
    ["mixed flat and nested", () => one("FP32", [1, [2]], [2]), /data\[1\] is an array/],
    ["string in FP32", () => one("FP32", ["1"]), /input "x": element 0 \("1"\) must be a number for FP32/],
    ["bool in INT32", () => one("INT32", [true]), /element 0 \(true\) must be an integer for INT32/],
    ["null in FP64", () => one("FP64", [null]), /element 0 \(null\) must be a number/],
    ["fraction in INT8", () => one("INT8", [1.5]), /element 0 \(1.5\) must be an integer for INT8/],
    ["INT8 overflow", () => one("INT8", [128]), /element 0 \(128\) is out of range for INT8 \[-128, 127\]/],
    ["UINT8 negative", () => one("UINT8", [-1]), /out of range for UINT8/],
    ["UINT64 negative string", () => one("UINT64", ["-1"]), /out of range for UINT64/],
    ["INT64 overflow string", () => one("INT64", ["9223372036854775808"]), /out of range for INT64/],
    ["INT64 imprecise number", () => one("INT64", [2 ** 60]), /lost precision as a JSON number; send it as a decimal string/],
    ["BOOL as number", () => one("BOOL", [1]), /element 0 \(1\) must be true or false for BOOL/],
    ["BYTES as number", () => one("BYTES", [1]), /element 0 \(1\) must be a string for BYTES/],
    ["binary_data output", () => inferRequestFromJson({ inputs: [{ name: "x", datatype: "FP32", shape: [1], data: [1] }], outputs: [{ name: "y", parameters: { binary_data: true } }] }, target), /output "y": "binary_data" .* not supported over REST/],
    ["binary_data_size input", () => one("FP32", [1], [1], { parameters: { binary_data_size: 4 } }), /input "x": "binary_data_size"/],
    ["bad parameter type", () => inferRequestFromJson({ parameters: { a: [1] }, inputs: [{ name: "x", datatype: "FP32", shape: [1], data: [1] }] }, target), /request: parameter "a" must be a boolean, number or string/],
    ["id not a string", () => inferRequestFromJson({ id: 5, inputs: [] }, target), /"id" must be a string/],
  ])("%s", (_name, fn, message) => fails(fn, message));

  it.each<[string, Record<string, unknown>, RegExp]>([
    ["non-boolean binary_data_output", { parameters: { binary_data_output: "yes" } }, /request: parameter "binary_data_output" must be a boolean \(true or false\), not "yes"/],
    ["non-boolean sequence_start", { parameters: { sequence_start: "true" } }, /request: parameter "sequence_start" must be a boolean/],
    ["negative priority", { parameters: { priority: -1 } }, /request: parameter "priority" must be a non-negative integer, not -1/],
    ["string timeout", { parameters: { timeout: "5s" } }, /request: parameter "timeout" must be a non-negative integer, not "5s"/],
    ["fractional sequence_id", { parameters: { sequence_id: 1.5 } }, /"sequence_id" must be a non-negative integer or a string/],
    ["parameters as a string", { parameters: "fast" }, /request: "parameters" must be an object of names to booleans, numbers or strings, not "fast"/],
    ["parameters as an array", { parameters: [1] }, /request: "parameters" must be an object/],
    ["non-integer classification", { outputs: [{ name: "y", parameters: { classification: 2.5 } }] }, /output "y": parameter "classification" must be a non-negative integer, not 2.5/],
    ["string classification", { outputs: [{ name: "y", parameters: { classification: "3" } }] }, /"classification" must be a non-negative integer/],
    ["non-boolean binary_data", { outputs: [{ name: "y", parameters: { binary_data: 0 } }] }, /output "y": parameter "binary_data" must be a boolean/],
    ["outputs not an array", { outputs: { name: "y" } }, /"outputs" must be an array/],
    ["a parameter named __proto__", { parameters: JSON.parse('{"__proto__": 5}') }, /request: parameter "__proto__" is not a usable parameter name/],
    ["numeric shared_memory_region", { inputs: [{ name: "x", datatype: "FP32", shape: [1], data: [1], parameters: { shared_memory_region: 5 } }] }, /input "x": parameter "shared_memory_region" must be a string/],
  ])("a parameter of the wrong type: %s", (_name, over, message) =>
    fails(() => inferRequestFromJson({ inputs: [{ name: "x", datatype: "FP32", shape: [1], data: [1] }], ...over }, target), message),
  );

  it("accepts the protocol's parameters with their documented types", () => {
    const req = inferRequestFromJson(
      {
        parameters: { binary_data_output: false, sequence_id: "s-1", sequence_start: true, sequence_end: false, priority: 1, timeout: 0 },
        inputs: [{ name: "x", datatype: "FP32", shape: [1], data: [1] }],
        outputs: [{ name: "y", parameters: { classification: 3, binary_data: false } }],
      },
      target,
    );
    expect(Object.keys(req.parameters)).toHaveLength(6);
    expect(req.outputs[0]!.parameters.classification!.parameterChoice).toEqual({ case: "int64Param", value: 3n });
    expect(inferRequestFromJson({ parameters: { sequence_id: 7 }, inputs: [{ name: "x", datatype: "FP32", shape: [1], data: [1] }] }, target).parameters.sequence_id).toBeDefined();
  });

  it("stops converting when the element budget is spent (the pipeline reports it)", () => {
    const req = inferRequestFromJson({ inputs: [{ name: "x", datatype: "FP32", shape: [1000, 1000], data: [] }] }, target, 10);
    expect(req.rawInputContents[0]!.byteLength).toBe(0);
  });
});

describe("JSON -> ModelInferRequest: hostile nesting and sizes answer invalid_argument, never a stack overflow", () => {
  let deepObject: unknown = 1;
  for (let i = 0; i < 20_000; i++) deepObject = { a: deepObject };
  let deepArray: unknown = 1;
  for (let i = 0; i < 20_000; i++) deepArray = [deepArray];

  it(`a shape with more than ${MAX_TENSOR_RANK} dimensions`, () => {
    const shape = Array(5_000).fill(1);
    fails(() => one("FP32", deepArray, shape), new RegExp(`shape has 5000 dimensions; at most ${MAX_TENSOR_RANK} are supported`));
    expect(one("FP32", [1], Array(MAX_TENSOR_RANK).fill(1)).inputs[0]!.shape).toHaveLength(MAX_TENSOR_RANK);
    fails(() => one("FP32", [1], Array(MAX_TENSOR_RANK + 1).fill(1)), /at most 32/);
  });

  it("data nested to the full rank works; deeper data is refused at the last level", () => {
    let nested: unknown = [2.5];
    for (let i = 1; i < MAX_TENSOR_RANK; i++) nested = [nested];
    expect(one("FP32", nested, Array(MAX_TENSOR_RANK).fill(1)).rawInputContents[0]!.byteLength).toBe(4);
    fails(() => one("FP32", [[deepArray]], [1, 1]), /data\[0\]\[0\] is nested deeper than shape \[1, 1\]/);
  });

  it("a deeply nested element is described, not serialized", () => {
    for (const datatype of ["FP32", "INT64", "INT8", "BOOL", "BYTES", "FP16"]) {
      fails(() => one(datatype, [deepObject]), /element 0 \(an object\) must be/);
    }
    fails(() => one("FP32", [deepArray]), /data\[0\] is an array/);
  });

  it("a deeply nested dimension is described, not serialized", () => {
    fails(() => one("FP32", [1], [deepArray]), /shape\[0\] is an array of 1; shape must hold non-negative integers/);
    fails(() => one("FP32", [1], [deepObject]), /shape\[0\] is an object/);
  });

  it("huge strings are cut in messages (names, datatypes, elements)", () => {
    const huge = "z".repeat(1_000_000);
    const messageOf = (fn: () => unknown) => {
      try {
        fn();
      } catch (error) {
        return (error as GatewayError).message;
      }
      throw new Error("expected a rejection");
    };
    for (const message of [
      messageOf(() => one("FP32", [huge])),
      messageOf(() => one(huge, [1])),
      messageOf(() => inferRequestFromJson({ inputs: [{ name: huge, datatype: "FP32", shape: [2], data: [1] }] }, target)),
      messageOf(() => inferRequestFromJson({ parameters: { [huge]: [1] }, inputs: [{ name: "x", datatype: "FP32", shape: [1], data: [1] }] }, target)),
    ]) {
      expect(message.length).toBeLessThan(400);
    }
  });
});

describe("parseJsonBody", () => {
  const nested = (depth: number) => "[".repeat(depth) + "1" + "]".repeat(depth);

  it(`refuses text nested deeper than ${MAX_JSON_DEPTH} levels before parsing, saying what to send`, () => {
    expect(parseJsonBody(nested(MAX_JSON_DEPTH))).toBeDefined();
    fails(() => parseJsonBody(nested(MAX_JSON_DEPTH + 1)), /request body nests arrays\/objects deeper than 64 levels; tensor "data" may nest at most as deep as its shape's rank/);
    fails(() => parseJsonBody(nested(1_000_000)), /deeper than 64 levels/);
    // The reviver path (long digit runs) is recursive in V8: it must never see deep text either.
    fails(() => parseJsonBody(`{"id":"12345678901234567890","x":${nested(20_000)}}`), /deeper than 64 levels/);
  });

  it("reports malformed JSON with the parser's detail", () => {
    fails(() => parseJsonBody("{bad"), /^request body is not valid JSON: /);
  });

  it("parses ordinary JSON, and long digit runs without losing other values", () => {
    expect(parseJsonBody('{"a":[1,2.5]}')).toEqual({ a: [1, 2.5] });
    const parsed = parseJsonBody('{"a":[12345678901234567890, 0.1234567890123456789]}') as { a: unknown[] };
    // Exact bigint where the runtime exposes number source text (workerd), else the double.
    expect([12345678901234567890n, 12345678901234567890]).toContainEqual(parsed.a[0]);
    expect(parsed.a[1]).toBeCloseTo(0.1234567890123456789);
  });
});

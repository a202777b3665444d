import { describe, expect, it } from "vitest";
import { fullShape, ModelConfigError, parseModelConfig } from "../../../gpu-worker/model/config.js";
import { requestByteLimit, MESSAGE_OVERHEAD_BYTES } from "../../../gpu-worker/model/limits.js";
import { selectVersions } from "../../../gpu-worker/model/repository.js";

const FILE = "models/iris/config.json";
const iris = {
  name: "iris",
  platform: "onnxruntime_onnx",
  max_batch_size: 64,
  input: [{ name: "input", datatype: "FP32", dims: [4] }],
  output: [
    { name: "probabilities", datatype: "FP32", dims: [3], labels: ["setosa", "versicolor", "virginica"] },
    { name: "label", datatype: "INT64", dims: [1] },
  ],
  dynamic_batching: { max_queue_delay_us: 200, preferred_batch_sizes: [32, 16], max_queue_size: 1024 },
  instance_count: 1,
  deterministic: true,
  cost_weight: 1,
  version_policy: { latest: 1 },
  execution_providers: ["cuda", "webgpu", "cpu"],
};

const parse = (overrides: Record<string, unknown>) => parseModelConfig({ ...iris, ...overrides }, FILE, "iris");

describe("parseModelConfig", () => {
  it("parses the contract's example into a typed config", () => {
    const config = parseModelConfig(iris, FILE, "iris");
    expect(config).toMatchObject({
      name: "iris",
      maxBatchSize: 64,
      dynamicBatching: { maxQueueDelayUs: 200, preferredBatchSizes: [16, 32] },
      maxQueueSize: 1024,
      versionPolicy: { kind: "latest", count: 1 },
      executionProviders: ["cuda", "webgpu", "cpu"],
    });
    expect(parse({ session_threads: false }).sessionThreads).toBe(false);
    expect(parse({ intra_op_threads: 2 }).intraOpThreads).toBe(2);
    expect(config.outputs[0]!.labels).toEqual(["setosa", "versicolor", "virginica"]);
    expect(fullShape(config, config.inputs[0]!)).toEqual([-1, 4]);
  });

  it("defaults optional fields: no batching section, latest version, worker providers", () => {
    const config = parseModelConfig(
      { max_batch_size: 0, input: iris.input, output: iris.output },
      FILE,
      "iris",
    );
    expect(config).toMatchObject({
      name: "iris",
      dynamicBatching: null,
      instanceCount: 1,
      deterministic: false,
      costWeight: 1,
      versionPolicy: { kind: "latest", count: 1 },
      executionProviders: null,
      sessionThreads: null,
      intraOpThreads: 0,
    });
    expect(fullShape(config, config.inputs[0]!)).toEqual([4]);
  });

  it.each([
    [{ name: "other" }, /must match the folder name "iris"/],
    [{ max_batch_size: -1 }, /max_batch_size/],
    [{ input: [{ name: "input", datatype: "FLOAT", dims: [4] }] }, /input "input": datatype "FLOAT" is not an OIP datatype/],
    [{ input: [{ name: "input", datatype: "BF16", dims: [4] }] }, /BF16 is not supported by onnxruntime-node/],
    [{ input: [{ name: "input", datatype: "FP32", dims: [0] }] }, /input "input": dims/],
    [{ output: [] }, /"output" must list at least one tensor/],
    [{ dynamic_batching: { preferred_batch_sizes: [128] } }, /preferred_batch_sizes/],
    [{ max_batch_size: 0 }, /dynamic_batching" needs "max_batch_size" > 0/],
    [{ version_policy: { newest: 1 } }, /version_policy/],
    [{ execution_providers: ["tpu"] }, /execution_providers/],
    [{ session_threads: "yes" }, /"session_threads" must be true or false/],
    [{ intra_op_threads: -1 }, /"intra_op_threads" must be an integer >= 0/],
    [{ input: [iris.input[0], iris.input[0]] }, /listed twice/],
  ])("rejects %j with a message naming the file and the field", (override, message) => {
    expect(() => parse(override)).toThrow(ModelConfigError);
    expect(() => parse(override)).toThrow(message);
    expect(() => parse(override)).toThrow(FILE);
  });
});

describe("selectVersions", () => {
  it("applies latest, all and specific policies", () => {
    expect(selectVersions([1, 3, 2], { kind: "latest", count: 2 })).toEqual([2, 3]);
    expect(selectVersions([3, 1], { kind: "all" })).toEqual([1, 3]);
    expect(selectVersions([1, 2, 3], { kind: "specific", versions: [3, 1, 7] })).toEqual([1, 3]);
  });
});

describe("requestByteLimit", () => {
  it("sizes the read limit from max_batch_size x worst-case row bytes, capped", () => {
    const config = parse({});
    // FP32 [4] rows: 16 bytes each, 64 rows.
    expect(requestByteLimit([config], 1 << 30)).toBe(64 * 16 + MESSAGE_OVERHEAD_BYTES);
    expect(requestByteLimit([config], 1000)).toBe(1000);
  });

  it("falls back to the cap for variable dims and BYTES", () => {
    const variable = parse({ input: [{ name: "input", datatype: "FP32", dims: [-1] }] });
    const bytes = parse({ input: [{ name: "input", datatype: "BYTES", dims: [1] }] });
    expect(requestByteLimit([variable], 5_000_000)).toBe(5_000_000);
    expect(requestByteLimit([bytes], 5_000_000)).toBe(5_000_000);
  });

  it("allows for 10-byte varints in typed integer contents", () => {
    const ints = parse({ input: [{ name: "input", datatype: "INT8", dims: [4] }] });
    expect(requestByteLimit([ints], 1 << 30)).toBe(64 * 4 * 10 + MESSAGE_OVERHEAD_BYTES);
  });
});

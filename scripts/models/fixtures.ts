// Test fixture models (test/fixtures/models/): tiny graphs that exist only so
// worker, edge and integration tests can exercise one behaviour each.
//   echo    - Identity on one input per OIP datatype, for datatype round-trips.
//   slow    - ~300 ms per call whatever the batch size (deadlines, cancellation,
//             queue-full, graceful drain).
//   nobatch - max_batch_size 0: no batch dimension, no batching.
// All pin execution_providers to ["cpu"] so their behaviour (and the slow
// model's timing) does not change when a test host happens to have a GPU.
import type { ModelConfig } from "./config.js";
import { boolTensor, type Datatype, encodeModel, floatTensor, graph, int64Tensor, node, valueInfo } from "./onnx-graph.js";
import { mulberry32, xavierUniform } from "./prng.js";

export interface BuiltModel {
  onnx: Uint8Array;
  config: ModelConfig;
}

/**
 * Input names of the echo model, by datatype; each output is `<name>_out`.
 * onnxruntime's CPU Identity kernel (opset 16+) accepts every tensor type,
 * string and float16 included, so no OIP datatype had to be dropped
 * (BF16 is not an OIP v2 datatype of ours on the model side and is left out).
 */
export const ECHO_INPUTS: ReadonlyArray<readonly [string, Datatype]> = [
  ["bool", "BOOL"],
  ["uint8", "UINT8"],
  ["uint16", "UINT16"],
  ["uint32", "UINT32"],
  ["uint64", "UINT64"],
  ["int8", "INT8"],
  ["int16", "INT16"],
  ["int32", "INT32"],
  ["int64", "INT64"],
  ["fp16", "FP16"],
  ["fp32", "FP32"],
  ["fp64", "FP64"],
  ["bytes", "BYTES"],
];

const CPU_ONLY = ["cpu"];

export function buildEcho(): BuiltModel {
  const g = graph({
    name: "echo",
    inputs: ECHO_INPUTS.map(([name, dt]) => valueInfo(name, dt, ["batch", `${name}_len`])),
    outputs: ECHO_INPUTS.map(([name, dt]) => valueInfo(`${name}_out`, dt, ["batch", `${name}_len`])),
    nodes: ECHO_INPUTS.map(([name]) => node("Identity", [name], [`${name}_out`])),
  });
  return {
    onnx: encodeModel(g, "Test fixture: Identity on one input per datatype."),
    config: {
      name: "echo",
      platform: "onnxruntime_onnx",
      max_batch_size: 8,
      input: ECHO_INPUTS.map(([name, datatype]) => ({ name, datatype, dims: [-1] })),
      output: ECHO_INPUTS.map(([name, datatype]) => ({ name: `${name}_out`, datatype, dims: [-1] })),
      dynamic_batching: { max_queue_delay_us: 100, preferred_batch_sizes: [4, 8], max_queue_size: 64 },
      instance_count: 1,
      deterministic: true,
      cost_weight: 1,
      cache: { ttl_s: 60, public: false },
      version_policy: { latest: 1 },
      execution_providers: CPU_ONLY,
    },
  };
}

/** Loop iterations of the slow model; tuned by hand for ~300 ms per call on the reference 2-core machine. */
export const SLOW_TRIP_COUNT = 80000;
const SLOW_STATE = 256;

/**
 * slow: y = x + 0 * mean(h), where h is a [1, SLOW_STATE] state pushed through
 * SLOW_TRIP_COUNT rounds of h = tanh(h W) in an ONNX Loop. The state's size
 * does not depend on the batch, so the cost is the same for any batch size;
 * it is seeded from x (a batch mean) so onnxruntime cannot constant-fold the
 * Loop away at load time. Tanh keeps h bounded, so 0 * mean(h) is exactly 0
 * and y equals x, which makes results easy to check in tests.
 */
export function buildSlow(): BuiltModel {
  const rng = mulberry32(0x5eed_0003);
  const body = graph({
    name: "slow_body",
    inputs: [valueInfo("iter", "INT64", []), valueInfo("cond_in", "BOOL", []), valueInfo("h_in", "FP32", [1, SLOW_STATE])],
    outputs: [valueInfo("cond_out", "BOOL", []), valueInfo("h_out", "FP32", [1, SLOW_STATE])],
    nodes: [
      node("Identity", ["cond_in"], ["cond_out"]),
      node("MatMul", ["h_in", "loop_w"], ["hw"]),
      node("Tanh", ["hw"], ["h_out"]),
    ],
  });
  const g = graph({
    name: "slow",
    inputs: [valueInfo("x", "FP32", ["batch", 8])],
    outputs: [valueInfo("y", "FP32", ["batch", 8])],
    initializers: [
      int64Tensor("trip_count", [], [SLOW_TRIP_COUNT]),
      boolTensor("cond", [], [true]),
      floatTensor("seed_proj", [8, SLOW_STATE], xavierUniform(rng, 8, SLOW_STATE)),
      // Scaled above Xavier so tanh stays in its non-linear range and never settles to zero.
      floatTensor("loop_w", [SLOW_STATE, SLOW_STATE], xavierUniform(rng, SLOW_STATE, SLOW_STATE).map((v) => v * 2)),
      floatTensor("zero", [], [0]),
    ],
    nodes: [
      node("ReduceMean", ["x"], ["x_mean"], { attrs: { axes: [0], keepdims: 1 } }),
      node("MatMul", ["x_mean", "seed_proj"], ["h0"]),
      node("Loop", ["trip_count", "cond", "h0"], ["h_final"], { attrs: { body } }),
      node("ReduceMean", ["h_final"], ["h_mean"], { attrs: { keepdims: 0 } }),
      node("Mul", ["h_mean", "zero"], ["nothing"]),
      node("Add", ["x", "nothing"], ["y"]),
    ],
  });
  return {
    onnx: encodeModel(g, `Test fixture: ${SLOW_TRIP_COUNT} Loop rounds of tanh(h W) per call; y equals x.`),
    config: {
      name: "slow",
      platform: "onnxruntime_onnx",
      max_batch_size: 4,
      input: [{ name: "x", datatype: "FP32", dims: [8] }],
      output: [{ name: "y", datatype: "FP32", dims: [8] }],
      dynamic_batching: { max_queue_delay_us: 1000, preferred_batch_sizes: [4], max_queue_size: 4 },
      instance_count: 1,
      deterministic: false,
      cost_weight: 1,
      version_policy: { latest: 1 },
      execution_providers: CPU_ONLY,
    },
  };
}

/** nobatch: y = 2x on a fixed [2, 2] tensor, with no batch dimension at all. */
export function buildNobatch(): BuiltModel {
  const g = graph({
    name: "nobatch",
    inputs: [valueInfo("x", "FP32", [2, 2])],
    outputs: [valueInfo("y", "FP32", [2, 2])],
    initializers: [floatTensor("two", [], [2])],
    nodes: [node("Mul", ["x", "two"], ["y"])],
  });
  return {
    onnx: encodeModel(g, "Test fixture: y = 2x, no batch dimension."),
    config: {
      name: "nobatch",
      platform: "onnxruntime_onnx",
      max_batch_size: 0,
      input: [{ name: "x", datatype: "FP32", dims: [2, 2] }],
      output: [{ name: "y", datatype: "FP32", dims: [2, 2] }],
      instance_count: 1,
      deterministic: true,
      cost_weight: 1,
      version_policy: { latest: 1 },
      execution_providers: CPU_ONLY,
    },
  };
}

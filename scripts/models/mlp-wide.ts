// mlp-wide: a fixed-weight MLP (seeded Xavier-uniform weights, ReLU) that is
// not trained at all. It exists to make batching and accelerators matter:
// its widths are chosen so one onnxruntime-node CPU call at batch 1 costs
// about 1 ms on the reference 2-core machine, and a batch of 64 costs far
// less than 64 separate calls (one GEMM instead of many GEMVs).
import type { ModelConfig } from "./config.js";
import { encodeModel, floatTensor, graph, node, valueInfo } from "./onnx-graph.js";
import { mulberry32, xavierUniform } from "./prng.js";

const SEED = 0x5eed_0002;
/** Layer widths, input first. Tuned by hand (see the measurement the build prints). */
export const MLP_WIDTHS = [1024, 2048, 2048, 2048, 10] as const;

export function buildMlpWide(widths: readonly number[] = MLP_WIDTHS): { onnx: Uint8Array; config: ModelConfig } {
  const rng = mulberry32(SEED);
  const initializers = [];
  const nodes = [];
  let current = "input";
  for (let l = 0; l + 1 < widths.length; l++) {
    const fanIn = widths[l]!;
    const fanOut = widths[l + 1]!;
    initializers.push(floatTensor(`w${l}`, [fanIn, fanOut], xavierUniform(rng, fanIn, fanOut)));
    // Small, non-zero biases so every layer's bias path is actually exercised.
    initializers.push(floatTensor(`b${l}`, [fanOut], Float32Array.from({ length: fanOut }, () => (rng() * 2 - 1) * 0.01)));
    const last = l + 2 === widths.length;
    nodes.push(node("MatMul", [current, `w${l}`], [`mm${l}`]));
    nodes.push(node("Add", [`mm${l}`, `b${l}`], [last ? "logits" : `pre${l}`]));
    if (!last) {
      nodes.push(node("Relu", [`pre${l}`], [`h${l}`]));
      current = `h${l}`;
    }
  }
  const inputWidth = widths[0]!;
  const outputWidth = widths[widths.length - 1]!;
  const g = graph({
    name: "mlp_wide",
    inputs: [valueInfo("input", "FP32", ["batch", inputWidth])],
    outputs: [valueInfo("logits", "FP32", ["batch", outputWidth])],
    initializers,
    nodes,
  });
  const onnx = encodeModel(g, `Wide MLP ${widths.join("-")} with seeded Xavier-uniform weights and ReLU; raw logits out.`);
  const config: ModelConfig = {
    name: "mlp-wide",
    platform: "onnxruntime_onnx",
    max_batch_size: 128,
    input: [{ name: "input", datatype: "FP32", dims: [inputWidth] }],
    output: [{ name: "logits", datatype: "FP32", dims: [outputWidth] }],
    dynamic_batching: { max_queue_delay_us: 500, preferred_batch_sizes: [32, 64, 128], max_queue_size: 4096 },
    instance_count: 1,
    deterministic: true,
    cost_weight: 4,
    cache: { ttl_s: 600, public: false },
    version_policy: { latest: 1 },
  };
  return { onnx, config };
}

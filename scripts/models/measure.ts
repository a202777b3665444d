// Wall-clock cost of one onnxruntime-node CPU session.run, as the worker would
// see it on CPU (default session options). Used only to print numbers and to
// tune model sizes by hand; the results never feed into the model files.
import * as ort from "onnxruntime-node";

export interface Timing {
  medianMs: number;
  p90Ms: number;
  runs: number;
}

export async function measureRun(
  model: Uint8Array,
  feeds: Record<string, ort.Tensor>,
  opts: { runs: number; warmup: number },
): Promise<Timing> {
  const session = await ort.InferenceSession.create(model, { executionProviders: ["cpu"] });
  try {
    for (let i = 0; i < opts.warmup; i++) await session.run(feeds);
    const times: number[] = [];
    for (let i = 0; i < opts.runs; i++) {
      const t0 = performance.now();
      await session.run(feeds);
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    return {
      medianMs: times[Math.floor(times.length / 2)]!,
      p90Ms: times[Math.floor(times.length * 0.9)]!,
      runs: times.length,
    };
  } finally {
    await session.release();
  }
}

/** A float32 feed of the given shape filled with a fixed, non-trivial pattern. */
export function patternTensor(shape: number[]): ort.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return new ort.Tensor("float32", Float32Array.from({ length: n }, (_, i) => Math.sin(i) * 0.5), shape);
}

// The floor: onnxruntime-node's session.run in this very process, on the same
// model file and the same input the other rows send. Everything above it
// (protocol, network, edge) is overhead the other rows are compared against.
import * as ort from "onnxruntime-node";
import { join } from "node:path";
import { MODELS } from "../../test/support/paths.js";
import type { BenchConfig } from "../lib/config.js";
import { closedLoop, sequential } from "../lib/load.js";
import { measureRow } from "../lib/row.js";
import type { Row } from "../lib/types.js";

export interface FloorInput {
  model: string;
  inputName: string;
  values: Float32Array;
  shape: number[];
}

export async function floorRow(
  config: BenchConfig,
  row: Row,
  input: FloorInput,
  plan: { latency: boolean; concurrency: number; seconds: number },
  progress: (line: string) => void,
): Promise<Row> {
  const session = await ort.InferenceSession.create(join(MODELS, input.model, "1", "model.onnx"));
  // One tensor reused for every call, as a server would reuse a decoded input;
  // building it per call would time the JS allocation, not the model.
  const feeds = { [input.inputName]: new ort.Tensor("float32", input.values, input.shape) };
  const call = () => session.run(feeds);
  try {
    return await measureRow(
      row,
      plan.latency
        ? () =>
            sequential(call, {
              requests: config.requests,
              warmupRequests: config.warmupRequests,
              maxSeconds: config.latencyMaxSeconds,
              tool: "session.run in-process",
            })
        : undefined,
      () =>
        closedLoop(call, {
          concurrency: plan.concurrency,
          seconds: plan.seconds,
          warmupSeconds: config.warmupSeconds,
          maxRequests: 50_000_000,
          tool: `session.run in-process, ${plan.concurrency} in flight`,
        }),
      progress,
    );
  } finally {
    await session.release();
  }
}

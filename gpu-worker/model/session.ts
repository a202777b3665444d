// onnxruntime session creation with execution-provider fallback: each
// provider is tried in order (cuda, webgpu, cpu by default); a provider that
// fails is logged with its reason and the next one tried. Provider failures
// (missing CUDA libraries, no GPU adapter) surface within milliseconds, so
// the fallback never stalls startup.
import ort from "onnxruntime-node";
import { formatShape } from "../../common/oip/index.js";
import { log } from "../log.js";
import { fullShape, type ExecutionProvider, type ModelConfig, type TensorConfig } from "./config.js";
import { ORT_TYPE } from "./tensors.js";

export interface ModelSession {
  readonly session: ort.InferenceSession;
  readonly provider: ExecutionProvider;
}

/**
 * The readable part of an onnxruntime error: its messages lead with a source
 * location and the failed assertion ("... was false. Failed to get a WebGPU
 * adapter: ..."); the explanation after the assertion is what an operator needs.
 */
export function reasonOf(error: unknown): string {
  let text = (error instanceof Error ? error.message : String(error)).split("\n")[0]!.trim();
  const assertion = text.lastIndexOf(" was false. ");
  if (assertion >= 0) text = text.slice(assertion + " was false. ".length);
  text = text.replace(/^\S+\.(cc|h|cpp):\d+\s+/, "");
  return text.length > 240 ? `${text.slice(0, 240)}...` : text;
}

export async function createSession(
  label: string,
  file: string,
  config: ModelConfig,
  providers: readonly ExecutionProvider[],
): Promise<ModelSession> {
  const failures: string[] = [];
  for (const [i, provider] of providers.entries()) {
    let session: ort.InferenceSession;
    try {
      // Severity 3 (errors only): provider probing would otherwise flood stderr with warnings.
      session = await ort.InferenceSession.create(file, {
        executionProviders: [provider],
        logSeverityLevel: 3,
        // 0 leaves onnxruntime's default: a pool as wide as the machine per session.
        ...(config.intraOpThreads > 0 ? { intraOpNumThreads: config.intraOpThreads } : {}),
      });
    } catch (error) {
      const next = providers[i + 1];
      failures.push(`${provider}: ${reasonOf(error)}`);
      log.info(`${label}: ${provider} unavailable (${reasonOf(error)})${next ? `; trying ${next}` : ""}`);
      continue;
    }
    try {
      checkSignature(session, config, file);
    } catch (error) {
      await session.release();
      throw error;
    }
    if (provider === "cpu" && i > 0) {
      log.warn(
        `!!! ${label} is running on the CPU: ${providers.slice(0, i).join(" and ")} could not be used. Expect far lower throughput. !!!`,
      );
    } else {
      log.info(`${label}: using ${provider}`);
    }
    return { session, provider };
  }
  throw new Error(`${file}: no execution provider could load the model (${failures.join("; ")})`);
}

/** Fails loading when model.onnx and config.json disagree, instead of failing every request later. */
export function checkSignature(session: ort.InferenceSession, config: ModelConfig, file: string): void {
  const problems: string[] = [];
  const compare = (kind: "input" | "output", specs: readonly TensorConfig[], actual: readonly ort.InferenceSession.ValueMetadata[]) => {
    const byName = new Map(actual.map((m) => [m.name, m]));
    for (const spec of specs) {
      const meta = byName.get(spec.name);
      if (meta === undefined) {
        problems.push(`${kind} "${spec.name}" is not in the ONNX graph (it has ${[...byName.keys()].map((n) => `"${n}"`).join(", ")})`);
        continue;
      }
      if (!meta.isTensor) {
        problems.push(`${kind} "${spec.name}" is not a tensor in the ONNX graph`);
        continue;
      }
      if (spec.datatype === "BF16" || meta.type !== ORT_TYPE[spec.datatype]) {
        problems.push(`${kind} "${spec.name}": config says ${spec.datatype}, ONNX graph says ${meta.type}`);
      }
      const expected = fullShape(config, spec);
      const onnxShape = meta.shape;
      const mismatch =
        onnxShape.length !== expected.length ||
        onnxShape.some((d, j) => typeof d === "number" && d >= 0 && expected[j] !== -1 && d !== expected[j]);
      if (mismatch) {
        problems.push(`${kind} "${spec.name}": config shape ${formatShape(expected)} does not fit ONNX shape [${onnxShape.join(", ")}]`);
      }
      const batchDim = onnxShape[0];
      if (config.maxBatchSize > 0 && typeof batchDim === "number" && batchDim >= 0 && batchDim < config.maxBatchSize) {
        problems.push(`${kind} "${spec.name}": the ONNX batch dimension is fixed at ${batchDim} but max_batch_size is ${config.maxBatchSize}`);
      }
    }
    if (kind === "input") {
      const missing = actual.filter((m) => !specs.some((s) => s.name === m.name)).map((m) => `"${m.name}"`);
      if (missing.length > 0) problems.push(`the ONNX graph needs inputs ${missing.join(", ")} that config.json does not declare`);
    }
  };
  compare("input", config.inputs, session.inputMetadata);
  compare("output", config.outputs, session.outputMetadata);
  if (problems.length > 0) throw new Error(`${file} does not match config.json: ${problems.join("; ")}`);
}

// How a loaded model runs its ONNX session, behind one small interface:
// inline on the worker's main thread (SESSION_THREADS=off, the original
// behaviour) or in worker threads (session-thread.ts). Both convert tensors
// and word errors through `runSession`, so their answers are identical.
import { Code, ConnectError } from "@connectrpc/connect";
import type ort from "onnxruntime-node";
import type { ExecutionProvider, ModelConfig } from "./config.js";
import { createSession } from "./session.js";
import { fromOrtTensor, toOrtTensor, type Tensor } from "./tensors.js";

export interface SessionRunner {
  /** The execution provider the session ended up on (after fallback). */
  readonly provider: ExecutionProvider;
  /** Whether runs happen off the main thread. */
  readonly threaded: boolean;
  /**
   * Runs one execution and returns every config output, in config order,
   * batch dimension first. The runner may take over the inputs' buffers
   * (a threaded runner transfers them, leaving them detached here).
   */
  run(inputs: readonly Tensor[]): Promise<Tensor[]>;
  /** Frees the session (and its thread); runs after this fail with unavailable. */
  release(): Promise<void>;
}

/** The error a caller sees when onnxruntime rejects a run: first line only, as an operator reads it. */
export function runFailure(model: string, error: unknown): ConnectError {
  const reason = error instanceof Error ? error.message.split("\n")[0] : String(error);
  return new ConnectError(`model "${model}" failed to run: ${reason}`, Code.Internal);
}

/** OIP tensors in, OIP tensors out, on whichever thread owns the session. */
export async function runSession(session: ort.InferenceSession, config: ModelConfig, inputs: readonly Tensor[]): Promise<Tensor[]> {
  const feeds = Object.fromEntries(inputs.map((t) => [t.name, toOrtTensor(t)]));
  let results: ort.InferenceSession.OnnxValueMapType;
  try {
    results = await session.run(feeds, config.outputs.map((o) => o.name));
  } catch (error) {
    throw runFailure(config.name, error);
  }
  return config.outputs.map((spec) => fromOrtTensor(spec.name, results[spec.name] as ort.Tensor));
}

/**
 * The session on the main thread. onnxruntime-node's run is synchronous
 * there, so the event loop stands still for the whole execution, and
 * concurrent runs (instance_count > 1) take turns on the one session.
 */
export class InlineRunner implements SessionRunner {
  readonly threaded = false;
  private released = false;

  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly config: ModelConfig,
    readonly provider: ExecutionProvider,
  ) {}

  static async open(label: string, file: string, config: ModelConfig, providers: readonly ExecutionProvider[]): Promise<InlineRunner> {
    const { session, provider } = await createSession(label, file, config, providers);
    return new InlineRunner(session, config, provider);
  }

  run(inputs: readonly Tensor[]): Promise<Tensor[]> {
    if (this.released) return Promise.reject(new ConnectError(`model "${this.config.name}" is unloaded`, Code.Unavailable));
    return runSession(this.session, this.config, inputs);
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    await this.session.release();
  }
}

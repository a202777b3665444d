// One loaded model version: its config, session runner (inline or in
// session threads, see session-runner.ts), batcher, statistics and metrics.
// `infer` is the whole inference path behind the RPC.
import { Code, ConnectError } from "@connectrpc/connect";
import type { ModelInferRequest } from "../../gen/inference/grpc_service_pb.js";
import { DynamicBatcher } from "../batching/batcher.js";
import type { Outcome, WorkerMetrics } from "../metrics/prometheus.js";
import { ModelStatisticsCounters } from "../metrics/statistics.js";
import type { ExecutionProvider, ModelConfig } from "./config.js";
import type { BytesLimits } from "./limits.js";
import type { SessionRunner } from "./session-runner.js";
import type { Tensor } from "./tensors.js";
import { validateInferRequest } from "./validate.js";

export interface LoadedModelOptions {
  /** BATCHING=off turns every model into one-request-per-execution. */
  readonly batching: boolean;
  readonly metrics: WorkerMetrics;
  /** Upper bound on a tensor's element count, to refuse absurd shapes before allocating. */
  readonly maxElements: number;
  /** MAX_BYTES_ELEMENTS / MAX_BYTES_LENGTH; unbounded when absent. */
  readonly bytesLimits?: BytesLimits;
}

const now = () => process.hrtime.bigint();

function outcomeOf(error: unknown): Outcome {
  const code = error instanceof ConnectError ? error.code : Code.Internal;
  // Aborted: the client hung up mid-call (connect-node's code for a reset connection).
  if (code === Code.Canceled || code === Code.DeadlineExceeded || code === Code.Aborted) return "cancelled";
  if (code === Code.ResourceExhausted || code === Code.Unavailable) return "rejected";
  return "failure";
}

export class LoadedModel {
  readonly stats: ModelStatisticsCounters;
  readonly provider: ExecutionProvider;
  private readonly batcher: DynamicBatcher;
  private readonly labels: { model: string; version: string };

  constructor(
    readonly config: ModelConfig,
    readonly version: string,
    private readonly runner: SessionRunner,
    private readonly options: LoadedModelOptions,
  ) {
    this.provider = runner.provider;
    this.labels = { model: config.name, version };
    this.stats = new ModelStatisticsCounters(config.name, version);
    const metrics = options.metrics;
    metrics.modelInfo.set({ ...this.labels, provider: this.provider }, 1);
    this.batcher = new DynamicBatcher(
      {
        model: config.name,
        maxBatchSize: config.maxBatchSize,
        dynamic: options.batching ? config.dynamicBatching : null,
        maxQueueSize: config.maxQueueSize,
        instanceCount: config.instanceCount,
      },
      // Every config output, in config order, batch dimension first.
      (inputs) => this.runner.run(inputs),
      {
        onExecution: ({ rows, computeNs }) => {
          this.stats.recordExecution(rows, computeNs);
          metrics.batchSize.observe(this.labels, rows);
          metrics.computeSeconds.observe(this.labels, Number(computeNs) / 1e9);
        },
      },
    );
  }

  /** Validates, queues, runs and returns the requested outputs (in request order) for this caller's rows. */
  async infer(request: ModelInferRequest, signal: AbortSignal): Promise<Tensor[]> {
    const { metrics } = this.options;
    const start = now();
    metrics.inFlight.inc(this.labels);
    try {
      const validated = validateInferRequest(request, this.config, this.options.maxElements, this.options.bytesLimits);
      const result = await this.batcher.submit(validated.inputs, validated.rows, signal);
      const outputs = validated.outputs.map((spec) => result.outputs.find((t) => t.name === spec.name)!);
      this.stats.recordSuccess(now() - start, result.queueNs, result.computeNs, validated.rows);
      metrics.queueSeconds.observe(this.labels, Number(result.queueNs) / 1e9);
      metrics.requests.inc({ ...this.labels, outcome: "success" });
      return outputs;
    } catch (error) {
      this.stats.recordFailure(now() - start);
      metrics.requests.inc({ ...this.labels, outcome: outcomeOf(error) });
      throw error;
    } finally {
      metrics.inFlight.dec(this.labels);
    }
  }

  /** Whether this model's runs happen in session threads (SESSION_THREADS, or the model's session_threads). */
  get threaded(): boolean {
    return this.runner.threaded;
  }

  /** Rejects queued requests; used when a drain runs out of time. */
  abandonQueue(): void {
    this.batcher.close(new ConnectError("the worker is shutting down", Code.Unavailable));
  }

  async close(): Promise<void> {
    this.abandonQueue();
    await this.runner.release();
  }
}

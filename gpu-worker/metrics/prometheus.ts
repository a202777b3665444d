// Prometheus series for GET /metrics. A registry per server (not prom-client's
// global one) so tests can run several workers in one process.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

export type Outcome = "success" | "failure" | "cancelled" | "rejected";

const LABELS = ["model", "version"] as const;

export class WorkerMetrics {
  readonly registry = new Registry();

  readonly requests = new Counter({
    name: "worker_inference_requests_total",
    help: "Inference requests by outcome: success, failure (invalid or failed), cancelled (client or deadline), rejected (queue full or draining).",
    labelNames: [...LABELS, "outcome"] as const,
    registers: [this.registry],
  });

  readonly queueSeconds = new Histogram({
    name: "worker_inference_queue_seconds",
    help: "Time a request waited in the batcher queue before its batch started.",
    labelNames: LABELS,
    buckets: [0.0001, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  readonly computeSeconds = new Histogram({
    name: "worker_inference_compute_seconds",
    help: "Time in session.run per execution (one batch).",
    labelNames: LABELS,
    buckets: [0.0001, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  readonly batchSize = new Histogram({
    name: "worker_inference_batch_size",
    help: "Rows per execution.",
    labelNames: LABELS,
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024],
    registers: [this.registry],
  });

  readonly inFlight = new Gauge({
    name: "worker_inference_in_flight",
    help: "Inference requests being handled (queued or executing).",
    labelNames: LABELS,
    registers: [this.registry],
  });

  readonly modelInfo = new Gauge({
    name: "worker_model_info",
    help: "Loaded model versions and the execution provider each runs on (always 1).",
    labelNames: [...LABELS, "provider"] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }
}

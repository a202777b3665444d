// Triton-style dynamic batcher, one per loaded model version.
//
// Scheduling, kept deliberately simple:
// - A request that finds a free instance and an empty queue runs at once:
//   nobody waits for company on an idle model.
// - Requests arriving while every instance is busy queue (bounded; a full
//   queue rejects at once with resource_exhausted). When an instance frees
//   up, the oldest queued request and every later one with the same
//   non-batch dims (in arrival order, skipping incompatible ones, stopping at
//   the first that would overflow max_batch_size) form the candidate batch.
// - If the candidate reaches the smallest preferred batch size (or
//   max_batch_size when none is configured) it is cut at the largest
//   preferred size it can form exactly (whole requests only), else taken
//   whole. Below that size it waits until max_queue_delay_us after the
//   oldest request arrived, then runs with whatever it has. Node timers have
//   millisecond resolution, so sub-millisecond delays round up to 1 ms.
// - Without dynamic batching (config absent, BATCHING=off, or no batch
//   dimension) each request is its own execution, still through the queue.
// - `instance_count` executions run concurrently.
// - An aborted request (client cancel, deadline) leaves the queue and never
//   runs; if its batch is already executing, the caller is answered at once
//   and its rows are dropped.
import { Code, ConnectError } from "@connectrpc/connect";
import type { Tensor } from "../model/tensors.js";
import { batchKey, concatRows, splitRows } from "./rows.js";

export interface BatcherOptions {
  /** Used in error messages. */
  readonly model: string;
  readonly maxBatchSize: number;
  /** null: one request per execution. */
  readonly dynamic: { readonly maxQueueDelayUs: number; readonly preferredBatchSizes: readonly number[] } | null;
  readonly maxQueueSize: number;
  readonly instanceCount: number;
}

/** Runs one merged batch; outputs keep the batch dimension first. */
export type Executor = (inputs: Tensor[], rows: number) => Promise<Tensor[]>;

export interface BatchResult {
  readonly outputs: Tensor[];
  readonly queueNs: bigint;
  readonly computeNs: bigint;
  /** Rows in the execution this request was part of. */
  readonly batchRows: number;
}

export interface ExecutionReport {
  readonly rows: number;
  readonly requests: number;
  readonly computeNs: bigint;
}

export interface BatcherHooks {
  readonly onExecution?: (report: ExecutionReport) => void;
}

interface Pending {
  readonly inputs: readonly Tensor[];
  readonly rows: number;
  readonly key: string;
  readonly enqueuedAt: bigint;
  /** Found a free instance and an empty queue: must not wait for company. */
  readonly immediate: boolean;
  settle: (outcome: { result: BatchResult } | { error: unknown }) => void;
}

const now = () => process.hrtime.bigint();

export function abortError(signal: AbortSignal): ConnectError {
  const reason: unknown = signal.reason;
  if (reason instanceof ConnectError) return reason;
  if (reason instanceof Error && reason.name === "TimeoutError") {
    return new ConnectError("the request deadline passed", Code.DeadlineExceeded);
  }
  return new ConnectError("the request was cancelled", Code.Canceled);
}

export class DynamicBatcher {
  private readonly queue: Pending[] = [];
  private running = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly options: BatcherOptions,
    private readonly execute: Executor,
    private readonly hooks: BatcherHooks = {},
  ) {}

  get queued(): number {
    return this.queue.length;
  }

  get executing(): number {
    return this.running;
  }

  submit(inputs: readonly Tensor[], rows: number, signal?: AbortSignal): Promise<BatchResult> {
    if (signal?.aborted) return Promise.reject(abortError(signal));
    if (this.queue.length >= this.options.maxQueueSize) {
      return Promise.reject(
        new ConnectError(
          `model "${this.options.model}" queue is full (${this.options.maxQueueSize} requests waiting); retry later`,
          Code.ResourceExhausted,
        ),
      );
    }
    return new Promise<BatchResult>((resolve, reject) => {
      const onAbort = () => {
        const index = this.queue.indexOf(pending);
        if (index >= 0) this.queue.splice(index, 1);
        pending.settle({ error: abortError(signal!) });
      };
      const pending: Pending = {
        inputs,
        rows,
        key: batchKey(inputs),
        enqueuedAt: now(),
        immediate: this.queue.length === 0 && this.running < this.options.instanceCount,
        settle: (outcome) => {
          pending.settle = () => {};
          signal?.removeEventListener("abort", onAbort);
          if ("result" in outcome) resolve(outcome.result);
          else reject(outcome.error);
        },
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.queue.push(pending);
      this.pump();
    });
  }

  /** Rejects everything still queued; executions in progress finish. */
  close(error: ConnectError): void {
    clearTimeout(this.timer);
    for (const pending of this.queue.splice(0)) pending.settle({ error });
  }

  private pump(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    while (this.running < this.options.instanceCount && this.queue.length > 0) {
      const next = this.nextBatch();
      if (typeof next === "bigint") {
        const waitMs = Math.max(1, Math.ceil(Number(next - now()) / 1e6));
        this.timer = setTimeout(() => this.pump(), waitMs);
        return;
      }
      for (const pending of next) this.queue.splice(this.queue.indexOf(pending), 1);
      void this.run(next);
    }
  }

  /** The requests to run next, or the hrtime at which to look again. */
  private nextBatch(): Pending[] | bigint {
    const head = this.queue[0]!;
    const { dynamic, maxBatchSize } = this.options;
    if (dynamic === null || maxBatchSize === 0) return [head];

    const candidate: Pending[] = [];
    let rows = 0;
    for (const pending of this.queue) {
      if (pending.key !== head.key) continue;
      if (rows + pending.rows > maxBatchSize) break;
      candidate.push(pending);
      rows += pending.rows;
    }

    const preferred = dynamic.preferredBatchSizes;
    if (rows >= (preferred[0] ?? maxBatchSize)) {
      let cut = candidate.length;
      let sum = 0;
      candidate.forEach((pending, i) => {
        sum += pending.rows;
        if (preferred.includes(sum)) cut = i + 1;
      });
      return candidate.slice(0, cut);
    }
    const deadline = head.enqueuedAt + BigInt(dynamic.maxQueueDelayUs) * 1000n;
    if (head.immediate || now() >= deadline) return candidate;
    return deadline;
  }

  private async run(batch: Pending[]): Promise<void> {
    this.running++;
    const rowCounts = batch.map((p) => p.rows);
    const rows = rowCounts.reduce((a, b) => a + b, 0);
    const start = now();
    try {
      const outputs = await this.execute(concatRows(batch.map((p) => p.inputs)), rows);
      const computeNs = now() - start;
      // With SESSION_THREADS=off onnxruntime-node runs the session
      // synchronously on this thread, so cancellations and deadlines that
      // arrived meanwhile (a reset stream, a timer) are still unseen. One turn
      // of the event loop lets them land first: those callers are then
      // settled as cancelled, not answered. With session threads the loop
      // kept turning during the run and this turn costs next to nothing.
      await new Promise((resolve) => setImmediate(resolve));
      const parts = splitRows(outputs, rowCounts);
      this.hooks.onExecution?.({ rows, requests: batch.length, computeNs });
      batch.forEach((pending, i) =>
        pending.settle({ result: { outputs: parts[i]!, queueNs: start - pending.enqueuedAt, computeNs, batchRows: rows } }),
      );
    } catch (error) {
      for (const pending of batch) pending.settle({ error });
    } finally {
      this.running--;
      this.pump();
    }
  }
}

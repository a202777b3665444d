// Counters behind the ModelStatistics RPC, shaped like Triton's statistics
// extension. Kept in nanoseconds as bigint so they never lose precision.
import { create } from "@bufbuild/protobuf";
import { ModelStatisticsSchema, type ModelStatistics } from "../../gen/inference/grpc_service_pb.js";

interface Duration {
  count: bigint;
  ns: bigint;
}

const zero = (): Duration => ({ count: 0n, ns: 0n });
const add = (d: Duration, ns: bigint, count = 1n) => {
  d.count += count;
  d.ns += ns;
};

export class ModelStatisticsCounters {
  private readonly success = zero();
  private readonly fail = zero();
  private readonly queue = zero();
  private readonly computeInfer = zero();
  private readonly batches = new Map<number, Duration>();
  private inferenceCount = 0n;
  private executionCount = 0n;
  private lastInference = 0n;

  constructor(
    readonly name: string,
    readonly version: string,
  ) {}

  recordSuccess(totalNs: bigint, queueNs: bigint, computeNs: bigint, rows: number): void {
    add(this.success, totalNs);
    add(this.queue, queueNs);
    add(this.computeInfer, computeNs);
    this.inferenceCount += BigInt(rows);
    this.lastInference = BigInt(Date.now());
  }

  /** Validation errors, execution errors, rejections and cancellations alike, as in Triton. */
  recordFailure(totalNs: bigint): void {
    add(this.fail, totalNs);
  }

  recordExecution(rows: number, computeNs: bigint): void {
    this.executionCount += 1n;
    let stats = this.batches.get(rows);
    if (stats === undefined) this.batches.set(rows, (stats = zero()));
    add(stats, computeNs);
  }

  toProto(): ModelStatistics {
    return create(ModelStatisticsSchema, {
      name: this.name,
      version: this.version,
      lastInference: this.lastInference,
      inferenceCount: this.inferenceCount,
      executionCount: this.executionCount,
      inferenceStats: {
        success: { ...this.success },
        fail: { ...this.fail },
        queue: { ...this.queue },
        computeInfer: { ...this.computeInfer },
      },
      batchStats: [...this.batches]
        .sort(([a], [b]) => a - b)
        .map(([batchSize, d]) => ({ batchSize: BigInt(batchSize), computeInfer: { ...d } })),
    });
  }
}

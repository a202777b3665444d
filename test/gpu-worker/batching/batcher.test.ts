import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { DynamicBatcher, type BatcherOptions, type Executor } from "../../../gpu-worker/batching/batcher.js";
import type { Tensor } from "../../../gpu-worker/model/tensors.js";

/** One FP32 input of `width` columns whose row r holds the value `first + r` in every column. */
const rows = (count: number, first: number, width = 2): Tensor[] => [
  {
    name: "x",
    datatype: "FP32",
    shape: [count, width],
    values: Float32Array.from({ length: count * width }, (_, i) => first + Math.floor(i / width)),
  },
];

/** Executor that doubles its input, records batch sizes, and finishes only when released. */
function fakeExecutor() {
  const batches: number[] = [];
  const releases: (() => void)[] = [];
  const execute: Executor = async (inputs, rowCount) => {
    batches.push(rowCount);
    await new Promise<void>((resolve) => releases.push(resolve));
    const x = inputs[0]!;
    return [{ ...x, name: "y", values: (x.values as Float32Array).map((v) => v * 2) }];
  };
  const releaseNext = async () => {
    while (releases.length === 0) await new Promise((r) => setTimeout(r, 1));
    releases.shift()!();
  };
  return { batches, execute, releaseNext };
}

const options = (overrides: Partial<BatcherOptions> = {}): BatcherOptions => ({
  model: "m",
  maxBatchSize: 8,
  dynamic: { maxQueueDelayUs: 0, preferredBatchSizes: [] },
  maxQueueSize: 100,
  instanceCount: 1,
  ...overrides,
});

const tick = () => new Promise((r) => setTimeout(r, 5));

describe("DynamicBatcher", () => {
  it("runs a request that finds the model idle at once, even with a long queue delay", async () => {
    const fake = fakeExecutor();
    const batcher = new DynamicBatcher(options({ dynamic: { maxQueueDelayUs: 10_000_000, preferredBatchSizes: [8] } }), fake.execute);
    const done = batcher.submit(rows(1, 0), 1);
    expect(fake.batches).toEqual([1]);
    await fake.releaseNext();
    await expect(done).resolves.toMatchObject({ batchRows: 1 });
  });

  it("merges requests queued during an execution and gives each caller exactly its own rows", async () => {
    const fake = fakeExecutor();
    const batcher = new DynamicBatcher(options(), fake.execute);
    const first = batcher.submit(rows(1, 100), 1);
    const a = batcher.submit(rows(2, 10), 2);
    const b = batcher.submit(rows(3, 20), 3);
    expect(batcher.queued).toBe(2);
    await fake.releaseNext();
    await first;
    await fake.releaseNext();
    const [ra, rb] = await Promise.all([a, b]);
    expect(fake.batches).toEqual([1, 5]);
    expect(ra.outputs[0]!.shape).toEqual([2, 2]);
    expect(Array.from(ra.outputs[0]!.values as Float32Array)).toEqual([20, 20, 22, 22]);
    expect(rb.outputs[0]!.shape).toEqual([3, 2]);
    expect(Array.from(rb.outputs[0]!.values as Float32Array)).toEqual([40, 40, 42, 42, 44, 44]);
    expect(ra.batchRows).toBe(5);
  });

  it("never merges requests whose non-batch dims differ", async () => {
    const fake = fakeExecutor();
    const batcher = new DynamicBatcher(options(), fake.execute);
    const busy = batcher.submit(rows(1, 0), 1);
    const narrow = batcher.submit(rows(1, 0, 2), 1);
    const wide = batcher.submit(rows(1, 0, 3), 1);
    const narrow2 = batcher.submit(rows(1, 0, 2), 1);
    for (let i = 0; i < 3; i++) await fake.releaseNext();
    await Promise.all([busy, narrow, wide, narrow2]);
    expect(fake.batches).toEqual([1, 2, 1]);
  });

  it("caps a merged batch at max_batch_size", async () => {
    const fake = fakeExecutor();
    const batcher = new DynamicBatcher(options({ maxBatchSize: 4 }), fake.execute);
    const all = Array.from({ length: 7 }, (_, i) => batcher.submit(rows(1, i), 1));
    for (let i = 0; i < 3; i++) await fake.releaseNext();
    await Promise.all(all);
    expect(fake.batches).toEqual([1, 4, 2]);
  });

  it("cuts a batch at the largest preferred size it can form exactly", async () => {
    const fake = fakeExecutor();
    const batcher = new DynamicBatcher(options({ dynamic: { maxQueueDelayUs: 0, preferredBatchSizes: [2, 4] } }), fake.execute);
    const all = Array.from({ length: 8 }, (_, i) => batcher.submit(rows(1, i), 1));
    for (let i = 0; i < 4; i++) await fake.releaseNext();
    await Promise.all(all);
    // 1 ran at once; of the 7 queued: preferred 4, then preferred 2, then the last one (delay 0).
    expect(fake.batches).toEqual([1, 4, 2, 1]);
  });

  it("waits up to max_queue_delay_us for more rows when below the smallest preferred size", async () => {
    const fake = fakeExecutor();
    const batcher = new DynamicBatcher(options({ dynamic: { maxQueueDelayUs: 100_000, preferredBatchSizes: [4] } }), fake.execute);
    const busy = batcher.submit(rows(1, 0), 1);
    const early = batcher.submit(rows(1, 0), 1);
    await fake.releaseNext();
    await busy;
    await tick();
    expect(fake.batches).toEqual([1]); // the queued row waits for company
    const late = batcher.submit(rows(1, 0), 1);
    await tick();
    expect(fake.batches).toEqual([1]);
    await new Promise((r) => setTimeout(r, 120));
    expect(fake.batches).toEqual([1, 2]); // delay expired: runs with what it has
    await fake.releaseNext();
    await Promise.all([early, late]);
  });

  it("runs one request per execution without dynamic batching", async () => {
    const fake = fakeExecutor();
    const batcher = new DynamicBatcher(options({ dynamic: null }), fake.execute);
    const all = [1, 2, 3].map((n) => batcher.submit(rows(n, 0), n));
    for (let i = 0; i < 3; i++) await fake.releaseNext();
    await Promise.all(all);
    expect(fake.batches).toEqual([1, 2, 3]);
  });

  it("runs instance_count executions concurrently", async () => {
    const fake = fakeExecutor();
    const batcher = new DynamicBatcher(options({ dynamic: null, instanceCount: 2 }), fake.execute);
    const all = [1, 2, 3].map((n) => batcher.submit(rows(n, 0), n));
    expect(fake.batches).toEqual([1, 2]);
    expect(batcher.executing).toBe(2);
    for (let i = 0; i < 3; i++) await fake.releaseNext();
    await Promise.all(all);
  });

  it("rejects at once with resource_exhausted when the queue is full", async () => {
    const fake = fakeExecutor();
    const batcher = new DynamicBatcher(options({ maxQueueSize: 1 }), fake.execute);
    const running = batcher.submit(rows(1, 0), 1);
    const queued = batcher.submit(rows(1, 0), 1);
    await expect(batcher.submit(rows(1, 0), 1)).rejects.toMatchObject({ code: Code.ResourceExhausted });
    await fake.releaseNext();
    await fake.releaseNext();
    await Promise.all([running, queued]);
  });

  it("removes a cancelled request from the queue so it never runs", async () => {
    const fake = fakeExecutor();
    const batcher = new DynamicBatcher(options(), fake.execute);
    const running = batcher.submit(rows(1, 0), 1);
    const controller = new AbortController();
    const cancelled = batcher.submit(rows(4, 0), 4, controller.signal);
    const kept = batcher.submit(rows(1, 0), 1);
    controller.abort();
    await expect(cancelled).rejects.toMatchObject({ code: Code.Canceled });
    expect(batcher.queued).toBe(1);
    await fake.releaseNext();
    await fake.releaseNext();
    await Promise.all([running, kept]);
    expect(fake.batches).toEqual([1, 1]);
  });

  it("maps a deadline abort to deadline_exceeded and refuses an already-aborted signal", async () => {
    const fake = fakeExecutor();
    const batcher = new DynamicBatcher(options(), fake.execute);
    const running = batcher.submit(rows(1, 0), 1);
    const timedOut = batcher.submit(rows(1, 0), 1, AbortSignal.timeout(5));
    await expect(timedOut).rejects.toMatchObject({ code: Code.DeadlineExceeded });
    const aborted = AbortSignal.abort(new ConnectError("gone", Code.Canceled));
    await expect(batcher.submit(rows(1, 0), 1, aborted)).rejects.toMatchObject({ code: Code.Canceled });
    await fake.releaseNext();
    await running;
    expect(fake.batches).toEqual([1]);
  });

  it("fails every request of a batch whose execution fails", async () => {
    const batcher = new DynamicBatcher(options(), async () => {
      throw new ConnectError("boom", Code.Internal);
    });
    await expect(batcher.submit(rows(1, 0), 1)).rejects.toMatchObject({ code: Code.Internal });
  });
});

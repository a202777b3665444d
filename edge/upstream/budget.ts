// Retry budget: retries may add at most `ratio` of recent request volume
// (plus a small floor so a quiet isolate can still retry). Without it, a
// fleet-wide outage would turn every request into UPSTREAM_ATTEMPTS requests
// just when the workers can least afford it.

export interface RetryBudgetOptions {
  /** Retries allowed per request, on average (0.2 = 20%). */
  readonly ratio?: number;
  /** Retries always allowed per window, whatever the volume. */
  readonly floor?: number;
  /** Sliding window length. */
  readonly windowMs?: number;
  readonly now?: () => number;
}

const BUCKETS = 10;

export class RetryBudget {
  private readonly ratio: number;
  private readonly floor: number;
  private readonly bucketMs: number;
  private readonly now: () => number;
  private readonly requests = new Array<number>(BUCKETS).fill(0);
  private readonly retries = new Array<number>(BUCKETS).fill(0);
  private bucketStart = 0;
  private cursor = 0;

  constructor(options: RetryBudgetOptions = {}) {
    this.ratio = options.ratio ?? 0.2;
    this.floor = options.floor ?? 10;
    this.bucketMs = (options.windowMs ?? 10_000) / BUCKETS;
    this.now = options.now ?? Date.now;
    this.bucketStart = this.now();
  }

  /** Counts one original request (not a retry). */
  recordRequest(): void {
    this.advance();
    this.requests[this.cursor]! += 1;
  }

  /** Takes one retry from the budget; false when it is spent. */
  tryRetry(): boolean {
    this.advance();
    const requests = sum(this.requests);
    const retries = sum(this.retries);
    if (retries >= this.floor + this.ratio * requests) return false;
    this.retries[this.cursor]! += 1;
    return true;
  }

  /** Rotates buckets that have aged out of the window. */
  private advance(): void {
    const now = this.now();
    let steps = Math.floor((now - this.bucketStart) / this.bucketMs);
    if (steps <= 0) return;
    this.bucketStart += steps * this.bucketMs;
    steps = Math.min(steps, BUCKETS);
    for (let i = 0; i < steps; i++) {
      this.cursor = (this.cursor + 1) % BUCKETS;
      this.requests[this.cursor] = 0;
      this.retries[this.cursor] = 0;
    }
  }
}

function sum(values: readonly number[]): number {
  let total = 0;
  for (const v of values) total += v;
  return total;
}

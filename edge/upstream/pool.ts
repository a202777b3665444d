// Which worker gets the next attempt: least in-flight requests (from this
// isolate), ties broken round-robin so idle workers share load evenly; a
// worker that just failed with `unavailable` or a network error sits out a
// short cool-down. When every candidate is cooling down we still try the one
// whose cool-down ends first: a cool-down is a preference, not an outage.

export interface Endpoint<C> {
  readonly url: string;
  readonly client: C;
  inFlight: number;
  /** Epoch ms until which the endpoint is avoided. */
  coolUntil: number;
}

export interface PoolOptions {
  readonly cooldownMs?: number;
  readonly now?: () => number;
}

export class WorkerPool<C> {
  readonly endpoints: readonly Endpoint<C>[];
  private next = 0;
  private readonly cooldownMs: number;
  private readonly now: () => number;

  constructor(entries: readonly { url: string; client: C }[], options: PoolOptions = {}) {
    if (entries.length === 0) throw new Error("WorkerPool needs at least one endpoint");
    this.endpoints = entries.map(({ url, client }) => ({ url, client, inFlight: 0, coolUntil: 0 }));
    this.cooldownMs = options.cooldownMs ?? 5_000;
    this.now = options.now ?? Date.now;
  }

  /** Picks an endpoint not in `exclude`, or undefined when all were tried. */
  pick(exclude: ReadonlySet<Endpoint<C>> = new Set()): Endpoint<C> | undefined {
    const now = this.now();
    const n = this.endpoints.length;
    let best: Endpoint<C> | undefined;
    let bestCooling: Endpoint<C> | undefined;
    // Scan starting at the round-robin cursor: the first of equals wins.
    for (let i = 0; i < n; i++) {
      const candidate = this.endpoints[(this.next + i) % n]!;
      if (exclude.has(candidate)) continue;
      if (candidate.coolUntil > now) {
        if (bestCooling === undefined || candidate.coolUntil < bestCooling.coolUntil) bestCooling = candidate;
      } else if (best === undefined || candidate.inFlight < best.inFlight) {
        best = candidate;
      }
    }
    const chosen = best ?? bestCooling;
    if (chosen !== undefined) this.next = (this.endpoints.indexOf(chosen) + 1) % n;
    return chosen;
  }

  markFailed(endpoint: Endpoint<C>): void {
    endpoint.coolUntil = this.now() + this.cooldownMs;
  }

  markHealthy(endpoint: Endpoint<C>): void {
    endpoint.coolUntil = 0;
  }
}

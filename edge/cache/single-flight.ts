// Identical concurrent misses in one isolate share one piece of work.
//
// The first caller (the leader) runs the work under its own request context;
// later callers with the same key (followers) wait for its outcome. The
// entry is removed before the outcome is published, so a caller arriving
// after that starts afresh (and normally finds the result in the cache).
//
// Why followers only ever see plain data: in workerd, I/O objects belong to
// the request that created them (the leader's fetch, its AbortSignal, which
// holds a canceler, its streams), and touching one from another request
// throws "Cannot perform I/O on behalf of a different request". So a flight
// publishes a settled record built from plain values, followers never read
// the leader's signal or await the leader's I/O, and each follower waits on
// a promise of its own, resolved from the record.
//
// Why a follower never takes the leader's error: the leader's failure may be
// its own (its short deadline, its cancellation, an input that only looks
// like the follower's). A follower therefore gets the shared answer or, when
// the flight failed, does the work again itself (see tiered.ts).

export type Settled<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: unknown };

export interface Flight<T> {
  /** Never rejects; holds plain data only (safe to read from any request). */
  readonly settled: Promise<Settled<T>>;
}

export class SingleFlight<T> {
  private readonly flights = new Map<string, Flight<T>>();

  /** The flight in progress for `key`, if any. */
  get(key: string): Flight<T> | undefined {
    return this.flights.get(key);
  }

  /**
   * Starts `work` as the flight for `key` (the caller is its leader). The
   * leader should keep its request alive until `settled` resolves
   * (waitUntil), so followers are always told how the flight ended.
   */
  start(key: string, work: () => Promise<T>): Flight<T> {
    const flights = this.flights;
    // Registered before the work starts, so even a synchronous throw inside
    // `work` finds (and removes) its own entry.
    const flight: { settled: Promise<Settled<T>> } = { settled: undefined as never };
    flights.set(key, flight);
    flight.settled = (async (): Promise<Settled<T>> => {
      try {
        return { ok: true, value: await work() };
      } catch (error) {
        return { ok: false, error };
      } finally {
        if (flights.get(key) === flight) flights.delete(key);
      }
    })();
    return flight;
  }

  /**
   * Waits for a flight as a follower: the flight's settled record, or a
   * rejection with this caller's own abort reason as soon as `signal` aborts
   * (the shared work goes on for the others).
   */
  join(flight: Flight<T>, signal: AbortSignal): Promise<Settled<T>> {
    return untilAborted(flight.settled, signal);
  }

  /** Flights in progress (for tests and metrics). */
  get size(): number {
    return this.flights.size;
  }
}

/**
 * `promise`, or a rejection with `signal.reason` as soon as `signal` aborts.
 * The promise raced here is created in the caller's request and the
 * callback that settles it touches nothing else, so the caller resumes in
 * its own context, and only there touches its own signal, whoever settles
 * `promise`.
 */
async function untilAborted<V>(promise: Promise<V>, signal: AbortSignal): Promise<V> {
  if (signal.aborted) throw signal.reason;
  let onAbort!: () => void;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
  });
  const mine = new Promise<V>((resolve) => void promise.then(resolve));
  try {
    return await Promise.race([mine, aborted]);
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
}

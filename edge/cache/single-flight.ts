// Identical concurrent misses in one isolate share one piece of work.
//
// The first caller (the leader) runs the work under its own request context;
// later callers with the same key (followers) await the same promise. The
// entry is removed before the promise settles, so a caller arriving after
// that starts afresh (and normally finds the result in the cache).
//
// Cancellation, kept simple:
//   - a follower whose own signal aborts stops waiting at once (its reason);
//     the shared work goes on for the leader and other followers;
//   - the work is bound to the leader: when the leader goes away, its
//     deadline passes or it cancels its call by id (the worker answers
//     `canceled`), the work fails. A follower that sees that failure while
//     its own request is still live runs the work itself instead of
//     inheriting someone else's cancellation (`join` tells it via `retry`).
import { Code } from "@connectrpc/connect";

export interface Flight<T> {
  readonly promise: Promise<T>;
  /** The leader's signal: aborted means a failure may be the leader's, not the work's. */
  readonly signal: AbortSignal;
}

export class SingleFlight<T> {
  private readonly flights = new Map<string, Flight<T>>();

  /** The flight in progress for `key`, if any. */
  get(key: string): Flight<T> | undefined {
    return this.flights.get(key);
  }

  /** Starts `work` as the flight for `key` (the caller is its leader). */
  start(key: string, signal: AbortSignal, work: () => Promise<T>): Flight<T> {
    const flights = this.flights;
    // Registered before the work starts, so even a synchronous throw inside
    // `work` finds (and removes) its own entry.
    const flight: { promise: Promise<T>; signal: AbortSignal } = { promise: undefined as never, signal };
    flights.set(key, flight);
    flight.promise = (async () => {
      try {
        return await work();
      } finally {
        if (flights.get(key) === flight) flights.delete(key);
      }
    })();
    return flight;
  }

  /**
   * Waits for a flight as a follower. Resolves `{ value }`, or `{ retry: true }`
   * when the flight failed because its leader was cancelled while this
   * caller is still live; rejects with the flight's error otherwise, or with
   * this caller's abort reason.
   */
  async join(flight: Flight<T>, signal: AbortSignal): Promise<{ value: T } | { retry: true }> {
    try {
      return { value: await untilAborted(flight.promise, signal) };
    } catch (error) {
      if (!signal.aborted && (flight.signal.aborted || isCancellation(error))) return { retry: true };
      throw error;
    }
  }

  /** Flights in progress (for tests and metrics). */
  get size(): number {
    return this.flights.size;
  }
}

/** A `canceled` answer: always someone's cancellation (the leader's), never the work's own result. */
function isCancellation(error: unknown): boolean {
  return typeof error === "object" && error !== null && (error as { code?: unknown }).code === Code.Canceled;
}

/** `promise`, or a rejection with `signal.reason` as soon as `signal` aborts. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}

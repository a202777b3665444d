// Calls in flight by the id their caller gave them, so ModelInferCancel can
// reach a call whose own connection cannot carry the cancellation (an
// HTTP/1.1 hop that never notices its client leaving, as local workerd).
//
// A cancellation may overtake its call (the edge is still authenticating the
// call when the browser gives up), so cancelled ids are remembered for a
// while: a call arriving under one is refused as cancelled at once. That
// memory is bounded: the oldest entries go first, and entries expire.
import { Code, ConnectError } from "@connectrpc/connect";

export interface CancelRegistryOptions {
  /** How long a cancelled id refuses late arrivals. */
  readonly rememberMs: number;
  /** At most this many remembered ids; the oldest are forgotten first. */
  readonly maxRemembered: number;
  readonly now?: () => number;
}

export interface TrackedCall {
  /** Aborts (with a `canceled` ConnectError) when the call's id is cancelled. */
  readonly signal: AbortSignal;
  /** Stops tracking; call when the call has finished either way. */
  release(): void;
}

/** The key calls are tracked under: ids are per model, as the RPC names both. */
export const callKey = (model: string, id: string): string => `${model}\n${id}`;

export class CancelRegistry {
  private readonly live = new Map<string, Set<AbortController>>();
  /** key -> epoch ms after which it is forgotten; insertion order is age order. */
  private readonly remembered = new Map<string, number>();
  private readonly now: () => number;

  constructor(private readonly options: CancelRegistryOptions) {
    this.now = options.now ?? Date.now;
  }

  track(model: string, id: string): TrackedCall {
    const key = callKey(model, id);
    const controller = new AbortController();
    if (this.wasCancelled(key)) {
      controller.abort(cancelledError(model));
      return { signal: controller.signal, release: () => {} };
    }
    let calls = this.live.get(key);
    if (calls === undefined) this.live.set(key, (calls = new Set()));
    calls.add(controller);
    return {
      signal: controller.signal,
      release: () => {
        calls.delete(controller);
        if (calls.size === 0 && this.live.get(key) === calls) this.live.delete(key);
      },
    };
  }

  /** Cancels every call in flight under (model, id) and refuses late ones; returns how many were in flight. */
  cancel(model: string, id: string): number {
    const key = callKey(model, id);
    this.remember(key);
    const calls = this.live.get(key);
    if (calls === undefined) return 0;
    this.live.delete(key);
    for (const controller of calls) controller.abort(cancelledError(model));
    return calls.size;
  }

  /** Calls being tracked (for tests). */
  get size(): number {
    let n = 0;
    for (const calls of this.live.values()) n += calls.size;
    return n;
  }

  private wasCancelled(key: string): boolean {
    const until = this.remembered.get(key);
    if (until === undefined) return false;
    if (until > this.now()) return true;
    this.remembered.delete(key);
    return false;
  }

  private remember(key: string): void {
    const now = this.now();
    this.remembered.delete(key);
    this.remembered.set(key, now + this.options.rememberMs);
    // Drop what has expired from the old end, then whatever is over the cap.
    for (const [oldest, until] of this.remembered) {
      if (until > now && this.remembered.size <= this.options.maxRemembered) break;
      this.remembered.delete(oldest);
    }
  }
}

// The id stays out of the message: behind the edge it is a derived key, not the caller's id.
function cancelledError(model: string): ConnectError {
  return new ConnectError(`the call to model "${model}" was cancelled by its caller (ModelInferCancel)`, Code.Canceled);
}

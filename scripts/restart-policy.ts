// When `npm start` restarts a worker that exited on its own, as an
// orchestrator would (Kubernetes' CrashLoopBackOff in miniature): the first
// restart after `initialDelayMs`, each further one twice as late up to
// `maxDelayMs`, and no more restarts once `maxCrashes` crashes fall within
// `windowMs` (then the stack stops: a worker that cannot stay up is a bug to
// see, not to hide). A worker that stayed up for a whole window starts over
// at the initial delay. Pure (time is passed in), so it is unit-tested.

export interface RestartPolicyOptions {
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
  readonly maxCrashes: number;
  readonly windowMs: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicyOptions = {
  initialDelayMs: 500,
  maxDelayMs: 10_000,
  maxCrashes: 5,
  windowMs: 60_000,
};

export type RestartDecision =
  | { readonly restart: true; readonly delayMs: number; readonly crashesInWindow: number }
  | { readonly restart: false; readonly crashesInWindow: number };

export class RestartPolicy {
  private crashes: number[] = [];
  private delayMs: number;

  constructor(private readonly options: RestartPolicyOptions = DEFAULT_RESTART_POLICY) {
    this.delayMs = options.initialDelayMs;
  }

  /** Records a crash at `nowMs` and says whether (and after how long) to restart. */
  crashed(nowMs: number): RestartDecision {
    const { windowMs, maxCrashes, initialDelayMs, maxDelayMs } = this.options;
    const last = this.crashes.at(-1);
    // Up for a whole window since the last crash: a fresh start, not a loop.
    if (last !== undefined && nowMs - last >= windowMs) this.delayMs = initialDelayMs;
    this.crashes = [...this.crashes.filter((t) => nowMs - t < windowMs), nowMs];
    const crashesInWindow = this.crashes.length;
    if (crashesInWindow >= maxCrashes) return { restart: false, crashesInWindow };
    const delayMs = this.delayMs;
    this.delayMs = Math.min(maxDelayMs, this.delayMs * 2);
    return { restart: true, delayMs, crashesInWindow };
  }
}

// The per-request context every adapter hands to the pipeline: one deadline
// and one AbortSignal, so a client that goes away or a deadline that passes
// stops upstream work the same way for every protocol.
import { Code, ConnectError } from "@connectrpc/connect";
import { GatewayError } from "../errors.js";

/** Per-request facts shared between middleware and adapters (id, timings). */
export interface RequestScope {
  readonly requestId: string;
  /** Named durations for the Server-Timing header (e.g. auth, ratelimit, cache, upstream). */
  readonly timings: { name: string; durationMs: number; description?: string }[];
  /** The caller's request headers (credentials, Cache-Control) and address, for auth, limits and cache. */
  readonly client: { readonly headers: Headers; readonly ip: string };
  /**
   * Headers the pipeline adds to whatever response this request gets, for
   * every protocol (x-cache, RateLimit, Retry-After, WWW-Authenticate).
   */
  readonly responseHeaders: Headers;
  /** Keeps background work (cache writes) alive after the response: ExecutionContext.waitUntil. */
  readonly waitUntil: (work: Promise<unknown>) => void;
}

export interface RequestContext {
  readonly scope: RequestScope;
  /** Epoch milliseconds after which the request has failed. */
  readonly deadline: number;
  /** Fires when the client goes away or the deadline passes; `reason` is a GatewayError. */
  readonly signal: AbortSignal;
  /** Milliseconds left until the deadline (never negative). */
  remainingMs(): number;
}

export interface ContextOptions {
  readonly scope: RequestScope;
  /** The edge's own upper bound (REQUEST_TIMEOUT_MS). */
  readonly maxTimeoutMs: number;
  /** What the client asked for (connect-timeout-ms / grpc-timeout), if anything. */
  readonly clientTimeoutMs?: number | undefined;
  /** Aborts when the client disconnects (the Request's signal, or Connect's handler signal). */
  readonly clientSignal?: AbortSignal | undefined;
  readonly now?: () => number;
}

export interface OwnedContext extends RequestContext {
  /** Clears the deadline timer and listeners; call once the response is ready. */
  dispose(): void;
}

export function createRequestContext(options: ContextOptions): OwnedContext {
  const now = options.now ?? Date.now;
  const client = options.clientTimeoutMs;
  const timeoutMs =
    client !== undefined && Number.isFinite(client) && client >= 0 ? Math.min(client, options.maxTimeoutMs) : options.maxTimeoutMs;
  const deadline = now() + timeoutMs;
  const controller = new AbortController();
  // AbortSignal.any/timeout exist in workerd and Node 20, but a hand-made
  // controller lets the reason be our GatewayError and lets dispose() clear
  // the timer instead of leaving one per request behind.
  const timer = setTimeout(
    () => controller.abort(new GatewayError(Code.DeadlineExceeded, `request deadline of ${timeoutMs} ms exceeded`)),
    timeoutMs,
  );
  const clientSignal = options.clientSignal;
  const onClientAbort = (): void => {
    const reason = clientSignal?.reason;
    // Connect's handler signal carries its own ConnectError (e.g. the client's
    // deadline): keep it; a plain disconnect becomes `canceled`.
    controller.abort(
      reason instanceof GatewayError || reason instanceof ConnectError
        ? reason
        : new GatewayError(Code.Canceled, "client cancelled the request"),
    );
  };
  if (clientSignal?.aborted) onClientAbort();
  else clientSignal?.addEventListener("abort", onClientAbort, { once: true });

  return {
    scope: options.scope,
    deadline,
    signal: controller.signal,
    remainingMs: () => Math.max(0, deadline - now()),
    dispose() {
      clearTimeout(timer);
      clientSignal?.removeEventListener("abort", onClientAbort);
    },
  };
}

/** Runs `fn` with a fresh context and always disposes it. */
export async function withRequestContext<T>(options: ContextOptions, fn: (ctx: RequestContext) => Promise<T>): Promise<T> {
  const ctx = createRequestContext(options);
  try {
    return await fn(ctx);
  } finally {
    ctx.dispose();
  }
}

/** A scope with no client facts: for tests and for contexts outside an HTTP request. */
export function detachedScope(requestId = ""): RequestScope {
  return {
    requestId,
    timings: [],
    client: { headers: new Headers(), ip: "unknown" },
    responseHeaders: new Headers(),
    waitUntil: (work) => void work.catch(() => undefined),
  };
}

/** Runs `fn` and records its duration under `name` for Server-Timing. */
export async function timed<T>(ctx: RequestContext, name: string, fn: () => Promise<T>): Promise<T> {
  const started = Date.now();
  try {
    return await fn();
  } finally {
    ctx.scope.timings.push({ name, durationMs: Date.now() - started });
  }
}

// The edge's client to the GPU worker pool: one generated Connect client per
// worker (binary protobuf over fetch), created once per isolate. Each call
// carries the request's deadline (connect-timeout-ms) and abort signal, and
// is retried on a different worker only when the worker said `unavailable`
// (or could not be reached) and the retry budget allows it.
import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { GRPCInferenceService } from "../../gen/inference/grpc_service_pb.js";
import type { EdgeConfig } from "../config.js";
import { GatewayError } from "../errors.js";
import { log } from "../log.js";
import type { RequestContext } from "../pipeline/context.js";
import { RetryBudget, type RetryBudgetOptions } from "./budget.js";
import { workerFetch, type FetchFn } from "./fetch.js";
import { WorkerPool, type Endpoint, type PoolOptions } from "./pool.js";

export type InferenceClient = Client<typeof GRPCInferenceService>;
export type RpcName = keyof InferenceClient;
export type RpcRequest<K extends RpcName> = Parameters<InferenceClient[K]>[0];
export type RpcResponse<K extends RpcName> = Awaited<ReturnType<InferenceClient[K]>>;

export interface CallOptions {
  /** Extra request headers for the worker (e.g. the call's cancellation id). */
  readonly headers?: Readonly<Record<string, string>>;
}

/** One answer per worker that answered; workers that failed are counted, not thrown. */
export interface BroadcastResult<K extends RpcName> {
  readonly answers: RpcResponse<K>[];
  readonly failed: number;
}

export interface Upstream {
  call<K extends RpcName>(method: K, request: RpcRequest<K>, ctx: RequestContext, options?: CallOptions): Promise<RpcResponse<K>>;
  /**
   * Sends `request` to every worker at once, without retries: for messages
   * that concern whatever any worker holds (a cancellation may concern a
   * call that another isolate sent to any worker).
   */
  broadcast<K extends RpcName>(method: K, request: RpcRequest<K>, ctx: RequestContext): Promise<BroadcastResult<K>>;
}

export interface UpstreamOptions {
  /** The fetch to reach workers with (tests pass an in-process fake). */
  readonly fetch?: FetchFn;
  readonly pool?: PoolOptions;
  readonly budget?: RetryBudgetOptions;
  readonly now?: () => number;
}

export function createUpstream(
  config: Pick<EdgeConfig, "workerUrls" | "workerToken" | "upstreamAttempts">,
  options: UpstreamOptions = {},
): Upstream {
  const fetch = workerFetch(options.fetch);
  const now = options.now ?? Date.now;
  const pool = new WorkerPool(
    config.workerUrls.map((url) => ({
      url,
      client: createClient(GRPCInferenceService, createConnectTransport({ baseUrl: url, useBinaryFormat: true, fetch })),
    })),
    { now, ...options.pool },
  );
  const budget = new RetryBudget({ now, ...options.budget });
  const auth: Record<string, string> = config.workerToken ? { authorization: `Bearer ${config.workerToken}` } : {};

  async function attempt<K extends RpcName>(
    endpoint: Endpoint<InferenceClient>,
    method: K,
    request: RpcRequest<K>,
    ctx: RequestContext,
    options: CallOptions = {},
  ): Promise<RpcResponse<K>> {
    const started = now();
    endpoint.inFlight += 1;
    try {
      const rpc = endpoint.client[method] as (req: RpcRequest<K>, opts: object) => Promise<RpcResponse<K>>;
      const headers = options.headers === undefined ? auth : { ...options.headers, ...auth };
      return await rpc(request, { signal: ctx.signal, timeoutMs: Math.max(1, ctx.remainingMs()), headers });
    } finally {
      endpoint.inFlight -= 1;
      // No worker URL here: Server-Timing is public, the pool layout is not.
      ctx.scope.timings.push({ name: "upstream", durationMs: now() - started });
    }
  }

  return {
    async broadcast<K extends RpcName>(method: K, request: RpcRequest<K>, ctx: RequestContext): Promise<BroadcastResult<K>> {
      const settled = await Promise.allSettled(pool.endpoints.map((endpoint) => attempt(endpoint, method, request, ctx)));
      if (ctx.signal.aborted) throw ctx.signal.reason;
      const answers: RpcResponse<K>[] = [];
      let failed = 0;
      settled.forEach((outcome, i) => {
        if (outcome.status === "fulfilled") answers.push(outcome.value);
        else {
          failed += 1;
          const error = ConnectError.from(outcome.reason);
          // not_found: that worker does not serve the model, which is no fault.
          if (error.code !== Code.NotFound) {
            log("warn", `a GPU worker failed ${method}`, { worker: pool.endpoints[i]!.url, error: error.rawMessage });
          }
        }
      });
      return { answers, failed };
    },

    async call<K extends RpcName>(method: K, request: RpcRequest<K>, ctx: RequestContext, options?: CallOptions): Promise<RpcResponse<K>> {
      budget.recordRequest();
      const tried = new Set<Endpoint<InferenceClient>>();
      let last: ConnectError | undefined;
      for (let n = 0; n < config.upstreamAttempts; n++) {
        if (n > 0 && !budget.tryRetry()) break;
        if (ctx.signal.aborted) throw ctx.signal.reason;
        if (ctx.remainingMs() <= 0) throw new GatewayError(Code.DeadlineExceeded, "request deadline exceeded before a worker answered");
        const endpoint = pool.pick(tried);
        if (endpoint === undefined) break;
        tried.add(endpoint);
        try {
          const response: RpcResponse<K> = await attempt(endpoint, method, request, ctx, options);
          pool.markHealthy(endpoint);
          return response;
        } catch (error) {
          // Our own deadline or the client leaving: the signal's reason says which.
          if (ctx.signal.aborted) throw ctx.signal.reason;
          const connectError = ConnectError.from(error);
          // A worker refusing the edge is the operator's problem, not the
          // client's credentials: never pass it on as a 401.
          if (connectError.code === Code.Unauthenticated || connectError.code === Code.PermissionDenied) {
            log("error", "a GPU worker refused the edge's WORKER_TOKEN", { worker: endpoint.url });
            throw new GatewayError(Code.Internal, "edge misconfigured: a GPU worker refused its WORKER_TOKEN", { cause: connectError });
          }
          // Only `unavailable` means "nothing happened, try elsewhere";
          // anything else (incl. a worker-side deadline) is the answer.
          if (connectError.code !== Code.Unavailable) throw connectError;
          pool.markFailed(endpoint);
          last = connectError;
        }
      }
      // Worker addresses go to the log only: the pool layout is not public.
      log("warn", "no GPU worker answered", { tried: [...tried].map((e) => e.url), last: last?.rawMessage });
      throw new GatewayError(
        Code.Unavailable,
        `no GPU worker answered (tried ${tried.size} of ${config.workerUrls.length}); try again shortly`,
        { cause: last },
      );
    },
  };
}

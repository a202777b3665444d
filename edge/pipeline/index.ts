// The one inference path. Every protocol adapter (REST, Connect/gRPC-Web,
// later GraphQL) converts to the generated protobuf messages and calls this
// object; checks that hold for every protocol live here, as will auth,
// rate limiting and caching, so no adapter can skip them.
import { create } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import {
  ModelInferCancelRequestSchema,
  ModelInferCancelResponseSchema,
  ModelStatisticsResponseSchema,
  ServerLiveResponseSchema,
  ServerReadyRequestSchema,
  ServerReadyResponseSchema,
  type ModelInferCancelRequest,
  type ModelInferCancelResponse,
  type ModelInferRequest,
  type ModelInferResponse,
  type ModelMetadataRequest,
  type ModelMetadataResponse,
  type ModelReadyRequest,
  type ModelReadyResponse,
  type ModelStatisticsRequest,
  type ModelStatisticsResponse,
  type ServerLiveRequest,
  type ServerLiveResponse,
  type ServerMetadataRequest,
  type ServerMetadataResponse,
  type ServerReadyRequest,
  type ServerReadyResponse,
} from "../../gen/inference/grpc_service_pb.js";
import type { Authenticator, Principal } from "../auth/types.js";
import type { InferenceCache } from "../cache/types.js";
import type { ModelCatalogue, ModelInfo } from "../catalogue/types.js";
import type { EdgeConfig } from "../config.js";
import { CALL_ID_HEADER } from "../../common/oip/index.js";
import { cachedReadiness } from "../catalogue/ready.js";
import { GatewayError, invalidArgument } from "../errors.js";
import type { RateLimiter } from "../rate-limit/types.js";
import type { Upstream } from "../upstream/client.js";
import { checkCallId, workerCallId } from "./call-id.js";
import { timed, type RequestContext } from "./context.js";
import { checkFitsModel, declaredElementsPerRow, elementsSent } from "./model-fit.js";
import { validateInferRequest } from "./validate.js";

export type { RequestContext, RequestScope } from "./context.js";

export interface Pipeline {
  serverLive(request: ServerLiveRequest, ctx: RequestContext): Promise<ServerLiveResponse>;
  serverReady(request: ServerReadyRequest, ctx: RequestContext): Promise<ServerReadyResponse>;
  modelReady(request: ModelReadyRequest, ctx: RequestContext): Promise<ModelReadyResponse>;
  serverMetadata(request: ServerMetadataRequest, ctx: RequestContext): Promise<ServerMetadataResponse>;
  modelMetadata(request: ModelMetadataRequest, ctx: RequestContext): Promise<ModelMetadataResponse>;
  modelInfer(request: ModelInferRequest, ctx: RequestContext): Promise<ModelInferResponse>;
  modelInferCancel(request: ModelInferCancelRequest, ctx: RequestContext): Promise<ModelInferCancelResponse>;
  modelStatistics(request: ModelStatisticsRequest, ctx: RequestContext): Promise<ModelStatisticsResponse>;
  /** Who is calling (for adapters that bound per-caller resources, such as live subscriptions). Costs no request. */
  authenticate(ctx: RequestContext): Promise<Principal>;
}

/** The protections every call passes through, in this order. */
export interface Guards {
  readonly auth: Authenticator;
  readonly rateLimit: RateLimiter;
  readonly catalogue: ModelCatalogue;
  readonly cache: InferenceCache;
}

export function createPipeline(config: Pick<EdgeConfig, "maxTensorElements" | "maxBytesElements" | "maxBytesLength" | "catalogue">, upstream: Upstream, guards: Guards): Pipeline {
  const { auth, rateLimit, catalogue, cache } = guards;
  // "No worker answered" is a plain not-ready, not an error, so probes read a boolean.
  const workersReady = cachedReadiness(
    async (ctx) => {
      try {
        return (await upstream.call("serverReady", create(ServerReadyRequestSchema), ctx)).ready;
      } catch (error) {
        if (error instanceof GatewayError && error.code === Code.Unavailable) return false;
        throw error;
      }
    },
    { ttlMs: config.catalogue.readyTtlMs },
  );

  /** Authenticates, checks the plan covers `model` (when given), and spends one request of `cost` units. */
  async function admit(ctx: RequestContext, model: string, cost = 0): Promise<Principal> {
    const principal = await timed(ctx, "auth", () => auth.authenticate(ctx));
    if (model !== "") auth.authorize(principal, model);
    await timed(ctx, "ratelimit", () => rateLimit.admit(principal, { model, cost }, ctx));
    return principal;
  }

  return {
    // The edge answering at all is liveness; probing workers here would let
    // a worker outage restart healthy edges.
    async serverLive() {
      return create(ServerLiveResponseSchema, { live: true });
    },

    // Ready when some worker is ready to serve. Probes need no credentials,
    // so the answer comes from a short-lived reading (READY_CACHE_TTL_MS),
    // not from one worker call per probe.
    async serverReady(_request, ctx) {
      return create(ServerReadyResponseSchema, { ready: await workersReady(ctx) });
    },

    async modelReady(request, ctx) {
      requireModelName(request.name);
      await admit(ctx, request.name);
      return upstream.call("modelReady", request, ctx);
    },

    async serverMetadata(request, ctx) {
      await admit(ctx, "");
      return upstream.call("serverMetadata", request, ctx);
    },

    async modelMetadata(request, ctx) {
      requireModelName(request.name);
      await admit(ctx, request.name);
      return upstream.call("modelMetadata", request, ctx);
    },

    // Credentials first (strangers learn nothing, not even validation
    // messages), then the cheap local checks, then the request is charged,
    // and only then anything that may cost a worker call. The model's facts
    // (needed for its cost) usually come from memory, and then both buckets
    // are charged in one Redis round trip; when they would cost a metadata
    // call, the request is charged first and the cost after the lookup, so a
    // caller over its limit never reaches a worker, whatever names it sends.
    async modelInfer(request, ctx) {
      const principal = await timed(ctx, "auth", () => auth.authenticate(ctx));
      validateInferRequest(request, config);
      requireModelName(request.modelName);
      checkCallId(request.id);
      auth.authorize(principal, request.modelName);
      let model = catalogue.known(request.modelName, request.modelVersion);
      if (model !== undefined) {
        const known = model;
        await timed(ctx, "ratelimit", () => rateLimit.admit(principal, { model: known.name, cost: costOf(request, known) }, ctx));
      } else {
        await timed(ctx, "ratelimit", () => rateLimit.admit(principal, { model: request.modelName, cost: 0 }, ctx));
        const resolved = (model = await catalogue.resolve(request.modelName, request.modelVersion, ctx));
        const cost = { model: resolved.name, cost: costOf(request, resolved), countRequest: false };
        await timed(ctx, "ratelimit", () => rateLimit.admit(principal, cost, ctx));
      }
      // A call with an id can be cancelled by it (modelInferCancel).
      const cancellable = request.id === "" ? undefined : { headers: { [CALL_ID_HEADER]: await workerCallId(principal, request.id) } };
      return cache.through({ principal, model, request }, ctx, () => upstream.call("modelInfer", request, ctx, cancellable));
    },

    // The explicit cancel for transports that cannot carry one (an HTTP/1.1
    // hop that never notices its client leaving). Costs one request, no
    // model units. Every worker hears it: the call may have gone to any.
    async modelInferCancel(request, ctx) {
      requireModelName(request.modelName);
      if (request.id === "") throw invalidArgument("id is required: the id the call was sent with");
      checkCallId(request.id);
      const principal = await admit(ctx, request.modelName);
      const model = await catalogue.resolve(request.modelName, "", ctx);
      const cancel = create(ModelInferCancelRequestSchema, { modelName: model.name, id: await workerCallId(principal, request.id) });
      const { answers } = await upstream.broadcast("modelInferCancel", cancel, ctx);
      if (answers.length === 0) throw new GatewayError(Code.Unavailable, "no GPU worker took the cancellation; try again shortly");
      return create(ModelInferCancelResponseSchema, { cancelled: answers.reduce((n, a) => n + a.cancelled, 0) });
    },

    // Statistics for every model (an empty name) list only the models the
    // caller's plan covers: what a caller may not call, it may not see.
    async modelStatistics(request, ctx) {
      const principal = await admit(ctx, request.name);
      const response = await upstream.call("modelStatistics", request, ctx);
      const visible = response.modelStats.filter((s) => auth.allows(principal, s.name));
      if (visible.length === response.modelStats.length) return response;
      return create(ModelStatisticsResponseSchema, { modelStats: visible });
    },

    authenticate(ctx) {
      return timed(ctx, "auth", () => auth.authenticate(ctx));
    },
  };
}

/**
 * Rate-limit units: rows × the model's cost weight, where rows is the larger
 * of the batch rows (one for models without a batch dimension) and the
 * elements sent over the elements one row of the model declares (a variable
 * dimension counts as 1). For fixed shapes both agree; for variable ones
 * (a [1, 3000000] BYTES tensor) the cost follows what the call really sends.
 * A request the model cannot take has no cost: it is refused here, before
 * anything is charged (invalid_argument naming the model's limits).
 */
export function costOf(request: ModelInferRequest, model: ModelInfo): number {
  checkFitsModel(request, model);
  const batchRows = model.maxBatchSize > 0 ? Number(request.inputs[0]?.shape[0] ?? 1n) : 1;
  const perRow = declaredElementsPerRow(model);
  const rows = perRow === undefined ? batchRows : Math.max(batchRows, Math.ceil(elementsSent(request) / perRow));
  return Math.max(1, rows) * model.costWeight;
}

function requireModelName(name: string): void {
  if (name === "") throw invalidArgument("model name is required");
}

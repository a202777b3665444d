// The one inference path. Every protocol adapter (REST, Connect/gRPC-Web,
// later GraphQL) converts to the generated protobuf messages and calls this
// object; checks that hold for every protocol live here, as will auth,
// rate limiting and caching, so no adapter can skip them.
import { create } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import {
  ModelInferCancelRequestSchema,
  ModelInferCancelResponseSchema,
  ServerLiveResponseSchema,
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
import { GatewayError, invalidArgument } from "../errors.js";
import type { RateLimiter } from "../rate-limit/types.js";
import type { Upstream } from "../upstream/client.js";
import { checkCallId, workerCallId } from "./call-id.js";
import { timed, type RequestContext } from "./context.js";
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
}

/** The protections every call passes through, in this order. */
export interface Guards {
  readonly auth: Authenticator;
  readonly rateLimit: RateLimiter;
  readonly catalogue: ModelCatalogue;
  readonly cache: InferenceCache;
}

export function createPipeline(config: Pick<EdgeConfig, "maxTensorElements">, upstream: Upstream, guards: Guards): Pipeline {
  const { auth, rateLimit, catalogue, cache } = guards;

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

    // Ready when some worker is ready to serve; "no worker answered" is a
    // plain not-ready, not an error, so probes read a boolean.
    async serverReady(request, ctx) {
      try {
        return await upstream.call("serverReady", request, ctx);
      } catch (error) {
        if (error instanceof GatewayError && error.code === Code.Unavailable) {
          return create(ServerReadyResponseSchema, { ready: false });
        }
        throw error;
      }
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
    // messages), then the cheap local checks, then what costs a lookup.
    async modelInfer(request, ctx) {
      const principal = await timed(ctx, "auth", () => auth.authenticate(ctx));
      validateInferRequest(request, config.maxTensorElements);
      requireModelName(request.modelName);
      checkCallId(request.id);
      auth.authorize(principal, request.modelName);
      const model = await catalogue.resolve(request.modelName, request.modelVersion, ctx);
      await timed(ctx, "ratelimit", () => rateLimit.admit(principal, { model: model.name, cost: costOf(request, model) }, ctx));
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

    async modelStatistics(request, ctx) {
      await admit(ctx, request.name);
      return upstream.call("modelStatistics", request, ctx);
    },
  };
}

/** Rate-limit units: batch rows × the model's cost weight (one row for models without a batch dimension). */
export function costOf(request: ModelInferRequest, model: ModelInfo): number {
  const rows = model.maxBatchSize > 0 ? Number(request.inputs[0]?.shape[0] ?? 1n) : 1;
  return Math.max(1, rows) * model.costWeight;
}

function requireModelName(name: string): void {
  if (name === "") throw invalidArgument("model name is required");
}

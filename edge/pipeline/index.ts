// The one inference path. Every protocol adapter (REST, Connect/gRPC-Web,
// later GraphQL) converts to the generated protobuf messages and calls this
// object; checks that hold for every protocol live here, as will auth,
// rate limiting and caching, so no adapter can skip them.
import { create } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import {
  ServerLiveResponseSchema,
  ServerReadyResponseSchema,
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
import type { EdgeConfig } from "../config.js";
import { GatewayError, invalidArgument } from "../errors.js";
import type { Upstream } from "../upstream/client.js";
import type { RequestContext } from "./context.js";
import { validateInferRequest } from "./validate.js";

export type { RequestContext, RequestScope } from "./context.js";

export interface Pipeline {
  serverLive(request: ServerLiveRequest, ctx: RequestContext): Promise<ServerLiveResponse>;
  serverReady(request: ServerReadyRequest, ctx: RequestContext): Promise<ServerReadyResponse>;
  modelReady(request: ModelReadyRequest, ctx: RequestContext): Promise<ModelReadyResponse>;
  serverMetadata(request: ServerMetadataRequest, ctx: RequestContext): Promise<ServerMetadataResponse>;
  modelMetadata(request: ModelMetadataRequest, ctx: RequestContext): Promise<ModelMetadataResponse>;
  modelInfer(request: ModelInferRequest, ctx: RequestContext): Promise<ModelInferResponse>;
  modelStatistics(request: ModelStatisticsRequest, ctx: RequestContext): Promise<ModelStatisticsResponse>;
}

export function createPipeline(config: Pick<EdgeConfig, "maxTensorElements">, upstream: Upstream): Pipeline {
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
      return upstream.call("modelReady", request, ctx);
    },

    async serverMetadata(request, ctx) {
      return upstream.call("serverMetadata", request, ctx);
    },

    async modelMetadata(request, ctx) {
      requireModelName(request.name);
      return upstream.call("modelMetadata", request, ctx);
    },

    async modelInfer(request, ctx) {
      validateInferRequest(request, config.maxTensorElements);
      return upstream.call("modelInfer", request, ctx);
    },

    async modelStatistics(request, ctx) {
      return upstream.call("modelStatistics", request, ctx);
    },
  };
}

function requireModelName(name: string): void {
  if (name === "") throw invalidArgument("model name is required");
}

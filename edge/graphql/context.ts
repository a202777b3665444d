// What one GraphQL HTTP request carries into resolvers: the pipeline, the
// request's RequestContext (one deadline and abort signal for every field),
// and per-request loaders, so a metadata lookup is made once per model and
// `infer` fields are coalesced. Nothing here outlives the request.
import { create } from "@bufbuild/protobuf";
import DataLoader from "dataloader";
import {
  ModelMetadataRequestSchema,
  type ModelInferRequest,
  type ModelMetadataResponse,
} from "../../gen/inference/grpc_service_pb.js";
import { modelInfo } from "../catalogue/catalogue.js";
import type { EdgeConfig } from "../config.js";
import type { Pipeline } from "../pipeline/index.js";
import type { RequestContext, RequestScope } from "../pipeline/context.js";
import { createInferBatch } from "./coalesce.js";
import { toGraphQLError } from "./errors.js";
import type { SubscriptionSlots } from "./subscription-slots.js";
import type { InferResult } from "./tensors.js";

export interface GatewayContext {
  readonly pipeline: Pipeline;
  readonly config: EdgeConfig;
  readonly scope: RequestScope;
  /** The whole request's context (queries); subscriptions make one per update. */
  readonly ctx: RequestContext;
  /** Fires when the client goes away. */
  readonly clientSignal: AbortSignal;
  /** The isolate's bound on live subscriptions. */
  readonly subscriptions: SubscriptionSlots;
  /** ModelMetadata per (name, version), once per request. */
  readonly metadata: DataLoader<string, ModelMetadataResponse>;
  /** ModelInfer, coalesced per request. */
  readonly infer: DataLoader<ModelInferRequest, InferResult>;
  /** Runs `fn`, turning any failure into a GraphQLError with extensions.code. */
  guard<T>(fn: () => Promise<T>): Promise<T>;
}

export const metadataKey = (name: string, version: string): string => `${name}\u0000${version}`;

export function createGatewayContext(options: {
  pipeline: Pipeline;
  config: EdgeConfig;
  scope: RequestScope;
  ctx: RequestContext;
  clientSignal: AbortSignal;
  subscriptions: SubscriptionSlots;
}): GatewayContext {
  const { pipeline, ctx, scope } = options;
  const metadata = new DataLoader<string, ModelMetadataResponse>(
    (keys) =>
      Promise.all(
        keys.map((key) => {
          const [name, version] = key.split("\u0000") as [string, string];
          return pipeline.modelMetadata(create(ModelMetadataRequestSchema, { name, version }), ctx).catch((e: unknown) => e as Error);
        }),
      ),
    // Batching buys nothing here (one RPC per model); the loader is for dedup.
    { batch: false },
  );
  const infer = new DataLoader<ModelInferRequest, InferResult>(
    createInferBatch({
      infer: (request) => pipeline.modelInfer(request, ctx),
      maxBatchSize: async (name, version) => modelInfo(await metadata.load(metadataKey(name, version)), version).maxBatchSize,
    }),
    // Every field is its own request: no memoising identical ones (their
    // ids may differ, and the cache layer already serves repeats).
    { cache: false },
  );
  return {
    ...options,
    metadata,
    infer,
    guard: (fn) =>
      fn().catch((error: unknown) => {
        throw toGraphQLError(error, scope);
      }),
  };
}

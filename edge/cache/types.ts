import type { ModelInferRequest, ModelInferResponse } from "../../gen/inference/grpc_service_pb.js";
import type { Principal } from "../auth/types.js";
import type { ModelInfo } from "../catalogue/types.js";
import type { RequestContext } from "../pipeline/context.js";

export interface CacheInput {
  readonly principal: Principal;
  /** The resolved model (name, version, deterministic, TTL, public). */
  readonly model: ModelInfo;
  readonly request: ModelInferRequest;
}

export interface InferenceCache {
  /**
   * Answers from the cache when the model and the client allow it, else runs
   * `miss` (shared by identical concurrent misses in this isolate) and stores
   * its result in the background. Sets `x-cache: HIT|MISS|BYPASS`.
   */
  through(input: CacheInput, ctx: RequestContext, miss: () => Promise<ModelInferResponse>): Promise<ModelInferResponse>;
}

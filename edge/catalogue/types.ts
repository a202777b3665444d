// What the edge knows about a model, from the worker's ModelMetadata
// (parameters field 100), cached briefly per isolate.
import type { RequestContext } from "../pipeline/context.js";

export interface ModelInfo {
  readonly name: string;
  /** The version the worker resolved ("" in a request means its latest). */
  readonly version: string;
  readonly maxBatchSize: number;
  /** Same input, same output: results may be cached. */
  readonly deterministic: boolean;
  /** Rate-limit units per batch row. */
  readonly costWeight: number;
  /** Seconds a cached result stays fresh (model config `cache.ttl_s`); undefined: the edge default. */
  readonly cacheTtlS: number | undefined;
  /** Results are the same for every tenant and may be shared across tenants. */
  readonly cachePublic: boolean;
  /**
   * The inputs the model declares (full shapes, -1 = variable, the batch
   * dimension included), for the edge's size checks and cost; undefined when
   * unknown (then the worker alone checks shapes).
   */
  readonly inputs?: readonly InputSpec[];
}

export interface InputSpec {
  readonly name: string;
  readonly datatype: string;
  readonly shape: readonly number[];
}

export interface ModelCatalogue {
  /** Resolves a model and version (not_found when the worker knows neither). */
  resolve(name: string, version: string, ctx: RequestContext): Promise<ModelInfo>;
  /**
   * The model's facts when this isolate holds them fresh, without any call;
   * undefined when they would cost a worker call (or the model is known
   * not to exist: resolve answers that from memory).
   */
  known(name: string, version: string): ModelInfo | undefined;
}

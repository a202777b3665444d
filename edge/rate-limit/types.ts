import type { Principal } from "../auth/types.js";
import type { RequestContext } from "../pipeline/context.js";

export interface Charge {
  /** The model the cost is charged to ("" for calls about no model). */
  readonly model: string;
  /** Cost units: batch size × the model's cost weight; 0 for metadata calls. */
  readonly cost: number;
  /**
   * Spend one request of the requests bucket (default true). false: only the
   * cost bucket, for the second half of a call whose request was already
   * charged (before the model lookup, see edge/pipeline).
   */
  readonly countRequest?: boolean;
}

export interface RateLimiter {
  /**
   * Spends one request (unless countRequest is false) and `cost` units of the
   * principal's plan. Sets RateLimit headers in ctx.scope.responseHeaders;
   * over the limit throws a GatewayError `resource_exhausted` (HTTP 429) with
   * Retry-After. A refused charge is refunded, including the request a
   * cost-only charge's first half took.
   */
  admit(principal: Principal, request: Charge, ctx: RequestContext): Promise<void>;
}

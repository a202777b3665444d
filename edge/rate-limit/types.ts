import type { Principal } from "../auth/types.js";
import type { RequestContext } from "../pipeline/context.js";

export interface RateLimiter {
  /**
   * Spends one request and `cost` units (batch size × the model's cost
   * weight; 0 for metadata calls) of the principal's plan. Sets RateLimit
   * headers in ctx.scope.responseHeaders; over the limit throws a
   * GatewayError `resource_exhausted` (HTTP 429) with Retry-After.
   */
  admit(principal: Principal, request: { readonly model: string; readonly cost: number }, ctx: RequestContext): Promise<void>;
}

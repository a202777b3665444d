// Who is calling. Every protocol's request is authenticated the same way by
// the pipeline; limits and cache privacy key off the principal.

export interface Principal {
  /** Stable identity for rate limits: "key:<id>", "jwt:<iss>|<sub>" or "ip:<address>". */
  readonly id: string;
  readonly kind: "api-key" | "jwt" | "anonymous";
  /** Whose data this is: private cache entries are scoped by tenant. */
  readonly tenant: string;
  /** Plan name from the PLANS config: its limits and which models it may use. */
  readonly plan: string;
}

export interface Authenticator {
  /**
   * Establishes the caller from `ctx.scope.client` (Authorization: Bearer,
   * x-api-key, or anonymous by IP when configured). Throws a GatewayError:
   * `unauthenticated` (with WWW-Authenticate in ctx.scope.responseHeaders)
   * when credentials are missing or bad.
   */
  authenticate(ctx: import("../pipeline/context.js").RequestContext): Promise<Principal>;
  /** Throws `permission_denied` when the principal's plan does not cover `model`. */
  authorize(principal: Principal, model: string): void;
  /** Whether the principal's plan covers `model` (what it may call is also all it may see). */
  allows(principal: Principal, model: string): boolean;
}

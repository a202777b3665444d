// The edge's Authenticator: API keys (Redis, cached per isolate), JWTs
// (jose; no Redis) and, when configured, anonymous callers keyed by client
// IP. Principal ids: "key:<id>", "jwt:<iss>|<sub>", "ip:<address>".
import { Code } from "@connectrpc/connect";
import { GatewayError } from "../errors.js";
import { log } from "../log.js";
import type { RequestContext } from "../pipeline/context.js";
import { planAllows, type Plans } from "../plans/plans.js";
import type { AuthConfig } from "./config.js";
import { readCredential } from "./credentials.js";
import { cannotVerify, permissionDenied, unauthenticated } from "./errors.js";
import type { JwtVerifier } from "./jwt.js";
import type { KeyStore } from "./key-store.js";
import type { Authenticator, Principal } from "./types.js";

export interface AuthenticatorOptions {
  readonly config: AuthConfig;
  readonly plans: Plans;
  /** null: no Redis configured, so API keys cannot be checked. */
  readonly keyStore: KeyStore | null;
  /** null: JWT not configured. */
  readonly jwt: JwtVerifier | null;
}

export function createAuthenticator(options: AuthenticatorOptions): Authenticator {
  const { config, plans, keyStore, jwt } = options;

  async function identify(ctx: RequestContext): Promise<Principal> {
    const credential = readCredential(ctx.scope.client.headers);
    switch (credential.kind) {
      case "none": {
        if (config.anonymousPlan === null) {
          throw unauthenticated('credentials required: send "Authorization: Bearer <API key or token>" or "x-api-key: <API key>"');
        }
        const ip = ctx.scope.client.ip;
        return { id: `ip:${ip}`, kind: "anonymous", tenant: "anonymous", plan: config.anonymousPlan };
      }
      case "api-key": {
        if (keyStore === null) {
          throw unauthenticated("API keys are not accepted by this gateway (no key store is configured)", "invalid_token");
        }
        let result;
        try {
          result = await keyStore.lookup(credential.key, ctx.scope.client.ip);
        } catch (error) {
          if (error instanceof GatewayError) throw error; // too many unknown keys: the caller's to fix
          log("warn", "API key lookup failed", { requestId: ctx.scope.requestId, error: String(error) });
          throw cannotVerify("cannot verify API key right now; retry shortly");
        }
        if (!result.found) throw unauthenticated("API key is not valid (unknown or revoked)", "invalid_token");
        const { record } = result;
        return withPlan({ id: `key:${record.id}`, kind: "api-key", tenant: record.tenant, plan: record.plan }, "API key");
      }
      case "jwt": {
        if (jwt === null) throw unauthenticated("bearer tokens (JWT) are not accepted by this gateway; use an API key", "invalid_token");
        const token = await jwt.verify(credential.token);
        const claims = token.payload as Record<string, unknown>;
        const jwtConfig = config.jwt!;
        const tenantClaim = claims[jwtConfig.tenantClaim];
        const planClaim = claims[jwtConfig.planClaim];
        const plan = typeof planClaim === "string" && planClaim !== "" ? planClaim : jwtConfig.defaultPlan;
        if (plan === null) throw permissionDenied(`token carries no "${jwtConfig.planClaim}" claim and no default plan is configured`);
        return withPlan(
          {
            id: `jwt:${token.issuer}|${token.subject}`,
            kind: "jwt",
            tenant: typeof tenantClaim === "string" && tenantClaim !== "" ? tenantClaim : token.subject,
            plan,
          },
          "token",
        );
      }
    }
  }

  function withPlan(principal: Principal, source: string): Principal {
    if (!plans.has(principal.plan)) {
      // The credential is genuine but names a plan this edge does not know:
      // an operator mismatch (PLANS changed), not the caller's fault to fix.
      log("warn", "credential names an unknown plan", { principal: principal.id, plan: principal.plan });
      throw permissionDenied(`${source} plan "${principal.plan}" is not offered by this gateway`);
    }
    return principal;
  }

  return {
    async authenticate(ctx) {
      try {
        return await identify(ctx);
      } catch (error) {
        // The challenge also goes to the shared response headers so every
        // protocol's response carries it, whatever path the error takes.
        if (error instanceof GatewayError && error.code === Code.Unauthenticated) {
          const challenge = error.headers["www-authenticate"];
          if (challenge) ctx.scope.responseHeaders.set("www-authenticate", challenge);
        }
        throw error;
      }
    },
    authorize(principal, model) {
      if (!allows(principal, model)) throw permissionDenied(`plan "${principal.plan}" does not include model "${model}"`);
    },
    allows,
  };

  function allows(principal: Principal, model: string): boolean {
    const plan = plans.get(principal.plan);
    return plan !== undefined && planAllows(plan, model);
  }
}

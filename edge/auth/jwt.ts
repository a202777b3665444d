// JWT verification with jose. Algorithms are pinned per key type:
//   HS256          -> only the configured secret (JWT_HS256_SECRET);
//   RS256 / ES256  -> only keys from the JWKS (JWT_JWKS_URL).
// The token's own `alg` only chooses which of the two to try; the
// verification call then allows exactly that key type's algorithms, so an
// HS256 token "signed" with an RSA public key can never be checked against
// that public key (algorithm confusion), and `alg: none` matches neither.
// exp is required and must be numeric; nbf, iss and aud are checked; sub is
// required because it names the principal. Claims the gateway reads as
// names (sub, and the tenant and plan claims) must be strings: jose checks
// only that sub is present, and String() would turn an object into
// "[object Object]", one principal shared by every such token.
import { createRemoteJWKSet, decodeProtectedHeader, errors, jwtVerify, type JWTPayload } from "jose";
import { GatewayError } from "../errors.js";
import type { JwtConfig } from "./config.js";
import { cannotVerify, unauthenticated } from "./errors.js";

export interface VerifiedToken {
  readonly issuer: string;
  readonly subject: string;
  readonly payload: JWTPayload;
}

export interface JwtVerifier {
  verify(token: string): Promise<VerifiedToken>;
}

export interface JwtVerifierOptions {
  /** Fetch timeout for the JWKS (ms); a slow key server is a 503, not a hang. */
  readonly jwksTimeoutMs?: number;
}

export function createJwtVerifier(config: JwtConfig, options: JwtVerifierOptions = {}): JwtVerifier {
  const hsAlgorithms = config.algorithms.filter((a) => a === "HS256");
  const asymmetric = config.algorithms.filter((a): a is "RS256" | "ES256" => a !== "HS256");
  // One key set per isolate: jose caches the fetched keys (10 min, refetch
  // on an unknown kid at most every 30 s), so verification is normally local.
  const jwks =
    config.jwksUrl && asymmetric.length > 0
      ? createRemoteJWKSet(new URL(config.jwksUrl), { timeoutDuration: options.jwksTimeoutMs ?? 2_000 })
      : null;
  const common = {
    issuer: config.issuer,
    audience: [...config.audience],
    clockTolerance: config.clockToleranceS,
    requiredClaims: ["exp", "sub"],
  };

  return {
    async verify(token) {
      let alg: string | undefined;
      try {
        alg = decodeProtectedHeader(token).alg;
      } catch {
        throw unauthenticated("token is malformed (its header is not valid base64url JSON)", "invalid_token");
      }
      let result;
      try {
        if (alg === "HS256" && hsAlgorithms.length > 0 && config.hs256Secret) {
          result = await jwtVerify(token, config.hs256Secret, { ...common, algorithms: hsAlgorithms });
        } else if (jwks && asymmetric.includes(alg as "RS256" | "ES256")) {
          result = await jwtVerify(token, jwks, { ...common, algorithms: asymmetric });
        } else {
          throw unauthenticated(
            `token algorithm "${alg ?? "missing"}" is not accepted (accepted: ${config.algorithms.join(", ")})`,
            "invalid_token",
          );
        }
      } catch (error) {
        throw describeFailure(error);
      }
      const { payload } = result;
      checkNameClaims(payload, config);
      return { issuer: String(payload.iss), subject: payload.sub as string, payload };
    },
  };
}

/** sub must be a non-empty string; the tenant and plan claims, when present, strings. */
function checkNameClaims(payload: JWTPayload, config: JwtConfig): void {
  if (typeof payload.sub !== "string" || payload.sub === "") {
    throw unauthenticated('token "sub" claim must be a non-empty string', "invalid_token");
  }
  for (const claim of [config.tenantClaim, config.planClaim]) {
    const value = (payload as Record<string, unknown>)[claim];
    if (value !== undefined && typeof value !== "string") {
      throw unauthenticated(`token "${claim}" claim must be a string`, "invalid_token");
    }
  }
}

/** Turns jose's errors into client-facing 401s (or 503 when keys could not be fetched). */
function describeFailure(error: unknown): Error {
  if (error instanceof GatewayError) return error;
  // Anything else that is not jose's own verdict is a failed JWKS fetch (network).
  if (!(error instanceof errors.JOSEError)) return unavailable();
  switch (error.code) {
    case "ERR_JWT_EXPIRED":
      return unauthenticated("token expired", "invalid_token");
    case "ERR_JWT_CLAIM_VALIDATION_FAILED": {
      const { claim, reason } = error as errors.JWTClaimValidationFailed;
      if (claim === "nbf") return unauthenticated("token is not valid yet (nbf is in the future)", "invalid_token");
      if (reason === "missing") return unauthenticated(`token lacks the required "${claim}" claim`, "invalid_token");
      if (reason === "invalid") return unauthenticated(`token "${claim}" claim has the wrong type`, "invalid_token");
      if (claim === "aud") return unauthenticated("token audience is not accepted here", "invalid_token");
      if (claim === "iss") return unauthenticated("token issuer is not accepted here", "invalid_token");
      return unauthenticated(`token "${claim}" claim is invalid`, "invalid_token");
    }
    case "ERR_JWS_SIGNATURE_VERIFICATION_FAILED":
      return unauthenticated("token signature is invalid", "invalid_token");
    case "ERR_JOSE_ALG_NOT_ALLOWED":
      return unauthenticated("token algorithm is not accepted", "invalid_token");
    case "ERR_JWKS_NO_MATCHING_KEY":
    case "ERR_JWKS_MULTIPLE_MATCHING_KEYS":
      return unauthenticated("token key id (kid) does not match a published key", "invalid_token");
    case "ERR_JWKS_TIMEOUT":
      return unavailable();
    case "ERR_JWS_INVALID":
    case "ERR_JWT_INVALID":
      return unauthenticated("token is malformed", "invalid_token");
    default:
      // JWKS fetch/parse failures are generic JOSEErrors: the key server's fault, not the caller's.
      if (error.constructor === errors.JOSEError || error.code === "ERR_JWKS_INVALID") return unavailable();
      return unauthenticated("token could not be verified", "invalid_token");
  }
}

const unavailable = () => cannotVerify("cannot verify tokens right now (signing keys unavailable); retry shortly");

// Auth failures as GatewayErrors. 401s carry an RFC 6750 challenge so any
// HTTP client learns the scheme and what went wrong; the same header rides
// along as Connect/gRPC-Web error metadata. Messages say what to fix
// ("token expired", "audience not accepted") and never echo secrets,
// internal addresses or library error text.
import { Code } from "@connectrpc/connect";
import { GatewayError } from "../errors.js";

const REALM = "inference";

export type ChallengeError = "invalid_request" | "invalid_token";

/**
 * `Bearer realm="inference"` with no error when no credentials were sent
 * (RFC 6750 §3.1), else `error="..."` and a short description. Descriptions
 * are ours, so quoting only needs `"` and `\` escaped.
 */
export function challenge(error?: ChallengeError, description?: string): string {
  let value = `Bearer realm="${REALM}"`;
  if (error) value += `, error="${error}"`;
  if (description) value += `, error_description="${description.replace(/["\\]/g, "")}"`;
  return value;
}

/** 401 `unauthenticated` with WWW-Authenticate. */
export function unauthenticated(message: string, error?: ChallengeError): GatewayError {
  return new GatewayError(Code.Unauthenticated, message, {
    headers: { "www-authenticate": challenge(error, error ? message : undefined) },
  });
}

/** 403 `permission_denied`: the caller is known but the plan does not cover it. */
export function permissionDenied(message: string): GatewayError {
  return new GatewayError(Code.PermissionDenied, message);
}

/** 503 `unavailable`: a credential could not be checked right now (key store or JWKS unreachable). */
export function cannotVerify(message: string): GatewayError {
  return new GatewayError(Code.Unavailable, message, { headers: { "retry-after": "1" } });
}

// Only the edge may call a worker: when WORKER_TOKEN is set every RPC must
// carry `authorization: Bearer <token>`. Health checks stay open so load
// balancers and orchestrators can probe without the secret.
//
// The check runs on the request's headers before connect-node reads the body
// (see http/rpc-handler.ts): a caller without the token must not make the
// worker buffer, inflate or parse anything (issue 9, item 5).
import { createHash, timingSafeEqual } from "node:crypto";
import { Code, ConnectError } from "@connectrpc/connect";
import { Health } from "../gen/grpc/health/v1/health_pb.js";

// Comparing fixed-length digests keeps the comparison constant-time without
// leaking the token's length through an early length check.
const digest = (value: string) => createHash("sha256").update(value).digest();

/** Services every caller may use without the token. */
const OPEN_SERVICES = new Set([Health.typeName]);

/**
 * Returns the admission check for one RPC: undefined when the call may go on,
 * else the unauthenticated error to answer with.
 */
export function bearerTokenGate(token: string): (serviceTypeName: string, authorization: string | undefined) => ConnectError | undefined {
  const expected = digest(`Bearer ${token}`);
  return (serviceTypeName, authorization) => {
    if (OPEN_SERVICES.has(serviceTypeName)) return undefined;
    if (timingSafeEqual(digest(authorization ?? ""), expected)) return undefined;
    return new ConnectError("missing or invalid worker token (expected authorization: Bearer <WORKER_TOKEN>)", Code.Unauthenticated);
  };
}

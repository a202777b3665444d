// Only the edge may call a worker: when WORKER_TOKEN is set every RPC must
// carry `authorization: Bearer <token>`. Health checks stay open so load
// balancers and orchestrators can probe without the secret.
import { createHash, timingSafeEqual } from "node:crypto";
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { Health } from "../gen/grpc/health/v1/health_pb.js";

// Comparing fixed-length digests keeps the comparison constant-time without
// leaking the token's length through an early length check.
const digest = (value: string) => createHash("sha256").update(value).digest();

export function bearerTokenInterceptor(token: string): Interceptor {
  const expected = digest(`Bearer ${token}`);
  return (next) => async (request) => {
    if (request.service.typeName === Health.typeName) return next(request);
    const presented = request.header.get("authorization") ?? "";
    if (!timingSafeEqual(digest(presented), expected)) {
      throw new ConnectError("missing or invalid worker token (expected authorization: Bearer <WORKER_TOKEN>)", Code.Unauthenticated);
    }
    return next(request);
  };
}

// Rejects bodies over MAX_BODY_BYTES before anything parses them: by
// Content-Length up front, and by counting for chunked bodies. REST gets
// {"error"} with 413; Connect/gRPC-Web get resource_exhausted in their own
// format (see connect/error-response.ts for the status choice).
import { Code } from "@connectrpc/connect";
import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { EdgeConfig } from "../config.js";
import { CONNECT_PREFIX } from "../connect/handler.js";
import { toConnectResponse } from "../connect/error-response.js";
import { GatewayError, toRestResponse } from "../errors.js";
import type { AppEnv } from "./types.js";

export function createBodyLimit(config: Pick<EdgeConfig, "maxBodyBytes">): MiddlewareHandler<AppEnv> {
  const error = new GatewayError(
    Code.ResourceExhausted,
    `request body exceeds ${config.maxBodyBytes} bytes (MAX_BODY_BYTES)`,
    { httpStatus: 413 },
  );
  return bodyLimit({
    maxSize: config.maxBodyBytes,
    onError: (c) =>
      c.req.path.startsWith(CONNECT_PREFIX) ? toConnectResponse(error, c.req.raw) : toRestResponse(error),
  });
}

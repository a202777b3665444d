// GRPCInferenceService at the edge: every method hands the generated message
// to the pipeline with a context built from connect-es's handler context
// (its signal already fires on client disconnect and on the client's
// connect-timeout-ms / grpc-timeout; timeoutMs() gives what is left).
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import type { GRPCInferenceService } from "../../gen/inference/grpc_service_pb.js";
import type { EdgeConfig } from "../config.js";
import { isUnexpected, toConnectError, toGatewayError } from "../errors.js";
import { describe, log } from "../log.js";
import type { Pipeline } from "../pipeline/index.js";
import { withRequestContext, type RequestContext } from "../pipeline/context.js";
import { scopeKey } from "./scope.js";

export function createInferenceService(
  pipeline: Pipeline,
  config: Pick<EdgeConfig, "requestTimeoutMs">,
): ServiceImpl<typeof GRPCInferenceService> {
  function run<T>(handler: HandlerContext, fn: (ctx: RequestContext) => Promise<T>): Promise<T> {
    const scope = handler.values.get(scopeKey);
    return withRequestContext(
      { scope, maxTimeoutMs: config.requestTimeoutMs, clientTimeoutMs: handler.timeoutMs(), clientSignal: handler.signal },
      fn,
    ).catch((error: unknown) => {
      if (isUnexpected(error)) log("error", "unexpected error", { requestId: scope.requestId, error: describe(error) });
      throw toConnectError(toGatewayError(error));
    });
  }
  return {
    serverLive: (req, h) => run(h, (ctx) => pipeline.serverLive(req, ctx)),
    serverReady: (req, h) => run(h, (ctx) => pipeline.serverReady(req, ctx)),
    modelReady: (req, h) => run(h, (ctx) => pipeline.modelReady(req, ctx)),
    serverMetadata: (req, h) => run(h, (ctx) => pipeline.serverMetadata(req, ctx)),
    modelMetadata: (req, h) => run(h, (ctx) => pipeline.modelMetadata(req, ctx)),
    modelInfer: (req, h) => run(h, (ctx) => pipeline.modelInfer(req, ctx)),
    modelInferCancel: (req, h) => run(h, (ctx) => pipeline.modelInferCancel(req, ctx)),
    modelStatistics: (req, h) => run(h, (ctx) => pipeline.modelStatistics(req, ctx)),
  };
}

// grpc.health.v1.Health: the worker as a whole ("") and the inference service
// report SERVING until a drain starts.
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import { Health, HealthCheckResponse_ServingStatus as Status } from "../gen/grpc/health/v1/health_pb.js";
import { GRPCInferenceService } from "../gen/inference/grpc_service_pb.js";
import type { ServingState } from "./state.js";

const KNOWN_SERVICES = new Set(["", GRPCInferenceService.typeName]);

export function healthService(state: ServingState): ServiceImpl<typeof Health> {
  const statusOf = (service: string): Status => {
    if (!KNOWN_SERVICES.has(service)) throw new ConnectError(`unknown service "${service}"`, Code.NotFound);
    return state.ready ? Status.SERVING : Status.NOT_SERVING;
  };
  return {
    check(request) {
      return { status: statusOf(request.service) };
    },
    // Streams the current status and, since draining is the only transition
    // and it is final, ends after reporting it (so open watches never hold up a drain).
    async *watch(request, context) {
      yield { status: statusOf(request.service) };
      if (!state.ready) return;
      await new Promise<void>((resolve) => {
        const done = () => {
          state.off("change", done);
          context.signal.removeEventListener("abort", done);
          resolve();
        };
        state.once("change", done);
        context.signal.addEventListener("abort", done, { once: true });
      });
      if (!context.signal.aborted) yield { status: statusOf(request.service) };
    },
  };
}

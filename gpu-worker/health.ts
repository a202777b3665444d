// grpc.health.v1.Health: the worker as a whole ("") and the inference service
// report SERVING until a drain starts.
//
// Health is open without the worker token, and a Watch stream lives as long as
// the worker is ready, so open watches are capped (MAX_HEALTH_WATCHES, for the
// whole worker): thousands of them held hundreds of MiB (issue 9, item 8). A
// watch past the cap is refused with resource_exhausted; Check always answers.
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import { Health, HealthCheckResponse_ServingStatus as Status } from "../gen/grpc/health/v1/health_pb.js";
import { GRPCInferenceService } from "../gen/inference/grpc_service_pb.js";
import type { ServingState } from "./state.js";

const KNOWN_SERVICES = new Set(["", GRPCInferenceService.typeName]);

export interface HealthOptions {
  /** Most Watch streams open at once. */
  readonly maxWatches: number;
}

export function healthService(state: ServingState, options: HealthOptions): ServiceImpl<typeof Health> {
  let watching = 0;
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
      const status = statusOf(request.service);
      if (watching >= options.maxWatches) {
        throw new ConnectError(
          `the worker already holds ${watching} health watch stream(s), its limit (MAX_HEALTH_WATCHES=${options.maxWatches}); use Check, or watch again later`,
          Code.ResourceExhausted,
        );
      }
      watching++;
      try {
        yield { status };
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
      } finally {
        watching--;
      }
    },
  };
}

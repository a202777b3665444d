// inference.GRPCInferenceService: resolve the model, check readiness, hand
// the request to the model, shape the answer. Outputs go back as
// raw_output_contents (one per output, in output order) so typed arrays leave
// without per-element conversion.
import { readFileSync } from "node:fs";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import { CALL_ID_HEADER, MAX_CALL_ID_LENGTH, encodeRaw } from "../common/oip/index.js";
import { GRPCInferenceService, type InferParameterSchema } from "../gen/inference/grpc_service_pb.js";
import { fullShape, type ModelConfig, type TensorConfig } from "./model/config.js";
import type { ModelRepository } from "./model/repository.js";
import type { CancelRegistry } from "./cancel/registry.js";
import { clientGoneKey, NO_DISCONNECT_WATCH } from "./client-gone.js";
import type { ServingState } from "./state.js";

export const SERVER_NAME = "edge-inference-gateway-worker";
export const SERVER_VERSION: string = (
  JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }
).version;
export const SERVER_EXTENSIONS = ["model_repository", "statistics", "binary_tensor_data"];

type ParameterInit = MessageInitShape<typeof InferParameterSchema>;
const stringParam = (value: string): ParameterInit => ({ parameterChoice: { case: "stringParam", value } });
const int64Param = (value: number): ParameterInit => ({ parameterChoice: { case: "int64Param", value: BigInt(value) } });
const boolParam = (value: boolean): ParameterInit => ({ parameterChoice: { case: "boolParam", value } });
const doubleParam = (value: number): ParameterInit => ({ parameterChoice: { case: "doubleParam", value } });

/**
 * The signal a call runs under: the client's deadline and disconnect (via
 * connect's context.signal, plus the HTTP/1.1 disconnect watch), an explicit
 * ModelInferCancel (`cancelled`, when the call has an id), capped by
 * REQUEST_TIMEOUT_MS, which is also the deadline of calls that set none.
 */
function callSignal(context: HandlerContext, capMs: number, cancelled?: AbortSignal): AbortSignal {
  const signals = [context.signal];
  if (cancelled !== undefined) signals.push(cancelled);
  const gone = context.values.get(clientGoneKey);
  if (gone !== NO_DISCONNECT_WATCH) signals.push(gone);
  const clientMs = context.timeoutMs();
  if (clientMs === undefined || clientMs > capMs) signals.push(AbortSignal.timeout(capMs));
  // The common HTTP/2 call with a deadline needs no combined signal.
  return signals.length === 1 ? context.signal : AbortSignal.any(signals);
}

const tensorMetadata = (config: ModelConfig, tensor: TensorConfig) => ({
  name: tensor.name,
  datatype: tensor.datatype,
  shape: fullShape(config, tensor).map(BigInt),
});

export interface RouteOptions {
  readonly requestTimeoutMs: number;
}

/**
 * The id a call can be cancelled by: the edge's per-caller key (header) when
 * the call came through the edge, else the request's own id (direct callers).
 */
function cancelIdOf(request: { id: string }, context: HandlerContext): string {
  return context.requestHeader.get(CALL_ID_HEADER) ?? request.id;
}

function requireCancelId(id: string): void {
  if (id.length > MAX_CALL_ID_LENGTH) {
    throw new ConnectError(`request id is ${id.length} characters long; the limit is ${MAX_CALL_ID_LENGTH}`, Code.InvalidArgument);
  }
}

export function inferenceService(
  repository: ModelRepository,
  state: ServingState,
  calls: CancelRegistry,
  options: RouteOptions,
): ServiceImpl<typeof GRPCInferenceService> {
  const requireReady = () => {
    if (!state.ready) throw new ConnectError("the worker is draining and takes no new requests", Code.Unavailable);
  };
  return {
    serverLive() {
      return { live: true };
    },
    serverReady() {
      return { ready: state.ready };
    },
    modelReady(request) {
      repository.resolve(request.name, request.version);
      return { ready: state.ready };
    },
    serverMetadata() {
      return { name: SERVER_NAME, version: SERVER_VERSION, extensions: SERVER_EXTENSIONS };
    },
    modelMetadata(request) {
      const model = repository.resolve(request.name, request.version);
      const { config } = model;
      const parameters: Record<string, ParameterInit> = {
        execution_provider: stringParam(model.provider),
        max_batch_size: int64Param(config.maxBatchSize),
        deterministic: boolParam(config.deterministic),
        cost_weight: doubleParam(config.costWeight),
        version: stringParam(model.version),
        cache_public: boolParam(config.cache.public),
      };
      if (config.cache.ttlS !== null) parameters.cache_ttl_s = int64Param(config.cache.ttlS);
      // TensorMetadata has no parameters in OIP, so class names ride along at
      // model level, one JSON string per labelled output (docs/CONTRACTS.md).
      for (const output of config.outputs) {
        if (output.labels !== undefined) parameters[`labels:${output.name}`] = stringParam(JSON.stringify(output.labels));
      }
      return {
        name: config.name,
        versions: repository.versions(config.name),
        platform: config.platform,
        inputs: config.inputs.map((t) => tensorMetadata(config, t)),
        outputs: config.outputs.map((t) => tensorMetadata(config, t)),
        parameters,
      };
    },
    async modelInfer(request, context) {
      requireReady();
      const model = repository.resolve(request.modelName, request.modelVersion);
      const cancelId = cancelIdOf(request, context);
      requireCancelId(cancelId);
      const tracked = cancelId === "" ? undefined : calls.track(model.config.name, cancelId);
      const outputs = await model
        .infer(request, callSignal(context, options.requestTimeoutMs, tracked?.signal))
        .finally(() => tracked?.release());
      return {
        modelName: model.config.name,
        modelVersion: model.version,
        id: request.id,
        outputs: outputs.map((t) => ({ name: t.name, datatype: t.datatype, shape: t.shape.map(BigInt) })),
        rawOutputContents: outputs.map((t) => encodeRaw(t.values)),
      };
    },
    modelInferCancel(request) {
      if (request.modelName === "" || request.id === "") {
        throw new ConnectError("model_name and id are both required to cancel a call", Code.InvalidArgument);
      }
      requireCancelId(request.id);
      // Resolved for its canonical name (and so an unknown model is a clear not_found).
      const model = repository.resolve(request.modelName, "");
      return { cancelled: calls.cancel(model.config.name, request.id) };
    },
    modelStatistics(request) {
      let models = repository.models();
      if (request.name !== "") {
        models =
          request.version === ""
            ? repository.versions(request.name).map((v) => repository.resolve(request.name, v))
            : [repository.resolve(request.name, request.version)];
        if (models.length === 0) throw new ConnectError(`model "${request.name}" is not in the repository`, Code.NotFound);
      }
      return { modelStats: models.map((m) => m.stats.toProto()) };
    },
  };
}

// The REST form of ModelInferCancel: POST /v2/models/{name}/cancel with
// {"id": "<the id the infer request carried>"}.
import { create } from "@bufbuild/protobuf";
import { ModelInferCancelRequestSchema, type ModelInferCancelRequest } from "../../gen/inference/grpc_service_pb.js";
import { invalidArgument } from "../errors.js";

export function cancelRequestFromJson(body: unknown, modelName: string): ModelInferCancelRequest {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw invalidArgument('the body must be a JSON object: {"id": "<the id the inference request was sent with>"}');
  }
  // Only the JSON type is checked here; the pipeline says what a missing or overlong id needs, for every protocol.
  const { id = "" } = body as { id?: unknown };
  if (typeof id !== "string") throw invalidArgument('"id" must be a string: the id the inference request was sent with');
  return create(ModelInferCancelRequestSchema, { modelName, id });
}

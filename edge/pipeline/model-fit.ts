// Refuses a request that is larger than its model could ever take, before it
// costs an upstream call, using the shapes the model declares (the
// catalogue's ModelMetadata). Without this, a request well under
// MAX_BODY_BYTES but far beyond the model (say 70,000 iris rows, ~1 MiB)
// travelled to a worker, whose read limit (derived from its models) refused
// it with a 429 naming its internal `readMaxBytes`. Here it gets a 400 naming
// the model's public limits: max_batch_size rows, and (when every declared
// dimension but the batch is fixed) that many rows' worth of elements.
// Only size is judged here. Names, datatypes and exact dimensions stay the
// worker's to check, with its own messages: the edge would only repeat them.
import type { ModelInferRequest } from "../../gen/inference/grpc_service_pb.js";
import type { ModelInfo } from "../catalogue/types.js";
import { invalidArgument } from "../errors.js";

export function checkFitsModel(request: ModelInferRequest, model: ModelInfo): void {
  const max = model.maxBatchSize;
  if (max > 0) {
    for (const input of request.inputs) {
      const rows = input.shape[0];
      if (rows !== undefined && rows > BigInt(max)) {
        throw invalidArgument(
          `input "${input.name}": batch size ${rows} is over model "${model.name}"'s max_batch_size of ${max}; split it into requests of at most ${max} rows`,
        );
      }
    }
  }
  const perRow = fixedElementsPerRow(model);
  if (perRow === undefined) return;
  const most = Math.max(1, max) * perRow;
  const sent = elementsSent(request);
  if (sent > most) {
    const rows = max > 0 ? `${max} rows (max_batch_size) of ${perRow} elements` : `its declared shapes`;
    throw invalidArgument(
      `the request's tensors hold ${sent} elements but model "${model.name}" takes at most ${most}: ${rows}; see the model's metadata for its input shapes`,
    );
  }
}

/** Elements the request sends, summed over inputs (shapes were validated: a safe integer). */
export function elementsSent(request: ModelInferRequest): number {
  return request.inputs.reduce((sum, input) => sum + input.shape.reduce((n, d) => n * Number(d), 1), 0);
}

/**
 * Elements in one row of the model's declared inputs (the batch dimension
 * left out; all of a model without one), a variable dimension (-1) counted as
 * 1. Undefined when the model's inputs are unknown.
 */
export function declaredElementsPerRow(model: ModelInfo): number | undefined {
  if (model.inputs === undefined || model.inputs.length === 0) return undefined;
  const skip = model.maxBatchSize > 0 ? 1 : 0;
  return model.inputs.reduce((sum, input) => sum + input.shape.slice(skip).reduce((n, d) => n * Math.max(1, d), 1), 0);
}

/** As declaredElementsPerRow, but undefined when any declared dimension (batch aside) is variable. */
function fixedElementsPerRow(model: ModelInfo): number | undefined {
  const skip = model.maxBatchSize > 0 ? 1 : 0;
  if (model.inputs?.some((input) => input.shape.slice(skip).some((d) => d < 0))) return undefined;
  return declaredElementsPerRow(model);
}

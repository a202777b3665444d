// Checks an inference request against the model config before anything is
// queued. Every failure is an invalid_argument whose message names the
// offending tensor and says what was expected, because the edge passes these
// messages straight to API users.
import { Code, ConnectError } from "@connectrpc/connect";
import {
  decodeContents,
  decodeRaw,
  elementCount,
  formatShape,
  isDatatype,
} from "../../common/oip/index.js";
import type { ModelInferRequest } from "../../gen/inference/grpc_service_pb.js";
import { fullShape, type ModelConfig, type TensorConfig } from "./config.js";
import { BytesBudget, UNBOUNDED_BYTES, type BytesLimits } from "./limits.js";
import { checkUtf8Elements, type Tensor } from "./tensors.js";

export interface ValidatedRequest {
  /** In the model config's input order. */
  readonly inputs: readonly Tensor[];
  /** Batch rows (the shared first dimension), 1 for models without a batch dimension. */
  readonly rows: number;
  /** Requested outputs in request order; every config output when none were requested. */
  readonly outputs: readonly TensorConfig[];
}

const invalid = (message: string) => new ConnectError(message, Code.InvalidArgument);

export function validateInferRequest(
  request: ModelInferRequest,
  config: ModelConfig,
  maxElements = Number.MAX_SAFE_INTEGER,
  bytesLimits: BytesLimits = UNBOUNDED_BYTES,
): ValidatedRequest {
  const raw = request.rawInputContents;
  if (raw.length > 0 && raw.length !== request.inputs.length) {
    throw invalid(
      `raw_input_contents has ${raw.length} entries but the request has ${request.inputs.length} inputs; send one per input, in input order, or none`,
    );
  }
  const expectedNames = config.inputs.map((t) => `"${t.name}"`).join(", ");

  // Structure first (names, datatypes, shapes) so a request with several
  // mistakes hears about the most basic one, then contents.
  const checked = new Map<string, { index: number; spec: TensorConfig; shape: number[] }>();
  let rows: number | undefined;
  request.inputs.forEach((input, index) => {
    const spec = config.inputs.find((t) => t.name === input.name);
    if (spec === undefined) throw invalid(`unknown input "${input.name}"; model "${config.name}" takes ${expectedNames}`);
    if (checked.has(input.name)) throw invalid(`input "${input.name}" appears more than once`);
    if (!isDatatype(input.datatype) || input.datatype !== spec.datatype) {
      throw invalid(`input "${input.name}": datatype ${input.datatype || "(empty)"} does not match the model's ${spec.datatype}`);
    }
    const shape = checkShape(input.name, input.shape, config, spec);
    const batch = config.maxBatchSize > 0 ? shape[0]! : 1;
    if (rows !== undefined && batch !== rows) {
      throw invalid(`input "${input.name}": batch size ${batch} differs from the other inputs' ${rows}`);
    }
    rows = batch;
    checked.set(input.name, { index, spec, shape });
  });

  const bytesBudget = new BytesBudget(bytesLimits);
  const inputs = config.inputs.map((spec): Tensor => {
    const found = checked.get(spec.name);
    if (found === undefined) {
      throw invalid(`missing input "${spec.name}" (${spec.datatype}, shape ${formatShape(fullShape(config, spec))})`);
    }
    const input = request.inputs[found.index]!;
    const count = elementCount(found.shape, maxElements);
    if (count instanceof Error) throw invalid(`input "${spec.name}": ${count.message}`);
    if (raw.length > 0 && input.contents !== undefined) {
      throw invalid(`input "${spec.name}": has both typed contents and raw_input_contents; send one`);
    }
    if (spec.datatype === "BYTES") {
      bytesBudget.charge(spec.name, count, raw.length > 0 ? raw[found.index] : undefined, input.contents?.bytesContents);
    }
    const values =
      raw.length > 0 ? decodeRaw(spec.datatype, raw[found.index]!, count) : decodeContents(spec.datatype, input.contents, count);
    if (values instanceof Error) throw invalid(`input "${spec.name}": ${values.message}`);
    const tensor: Tensor = { name: spec.name, datatype: spec.datatype, shape: found.shape, values };
    if (spec.datatype === "BYTES") checkUtf8Elements(tensor);
    return tensor;
  });

  const requested = new Set<string>();
  const outputs = request.outputs.map(({ name }) => {
    const spec = config.outputs.find((t) => t.name === name);
    if (spec === undefined) {
      const known = config.outputs.map((t) => `"${t.name}"`).join(", ");
      throw invalid(`unknown output "${name}" requested; model "${config.name}" produces ${known}`);
    }
    if (requested.has(name)) throw invalid(`output "${name}" is requested more than once`);
    requested.add(name);
    return spec;
  });

  return { inputs, rows: rows ?? 1, outputs: outputs.length > 0 ? outputs : config.outputs };
}

function checkShape(name: string, shape: readonly bigint[], config: ModelConfig, spec: TensorConfig): number[] {
  const expected = fullShape(config, spec);
  const dims = shape.map(Number);
  if (dims.length !== expected.length) {
    throw invalid(`input "${name}": shape ${formatShape(shape)} has rank ${dims.length}, expected ${formatShape(expected)}`);
  }
  dims.forEach((d, i) => {
    const want = expected[i]!;
    if (!Number.isSafeInteger(d) || d < 0 || (want !== -1 && d !== want)) {
      throw invalid(`input "${name}": shape ${formatShape(shape)} does not match ${formatShape(expected)} at dimension ${i}`);
    }
  });
  if (config.maxBatchSize > 0) {
    const batch = dims[0]!;
    if (batch < 1 || batch > config.maxBatchSize) {
      throw invalid(`input "${name}": batch size ${batch} is outside 1..${config.maxBatchSize} (max_batch_size)`);
    }
  }
  return dims;
}

// Request-level checks that hold for every protocol, on the protobuf form:
// names, datatypes, shapes, payload sizes and the element budgets. Adapters
// only translate; a Connect client and a REST client get the same answers.
// Checks are size/length only: tensor bytes are never copied here, and BYTES
// raw contents are walked by their length prefixes (no object per element),
// after the element budget has bounded how far that walk may go.
import { DATATYPE_INFO, elementCount, formatShape, isDatatype, scanRawBytes } from "../../common/oip/index.js";
import type { ModelInferRequest } from "../../gen/inference/grpc_service_pb.js";
import type { EdgeConfig } from "../config.js";
import { invalidArgument, GatewayError } from "../errors.js";
import { Code } from "@connectrpc/connect";

/** The request-size bounds (MAX_TENSOR_ELEMENTS, MAX_BYTES_ELEMENTS, MAX_BYTES_LENGTH). */
export type RequestLimits = Pick<EdgeConfig, "maxTensorElements" | "maxBytesElements" | "maxBytesLength">;

export function validateInferRequest(request: ModelInferRequest, limits: RequestLimits): void {
  const { maxTensorElements } = limits;
  if (request.modelName === "") throw invalidArgument("model_name is required");
  if (request.inputs.length === 0) throw invalidArgument("the request has no inputs");
  const raw = request.rawInputContents;
  if (raw.length > 0 && raw.length !== request.inputs.length) {
    throw invalidArgument(
      `raw_input_contents has ${raw.length} entries but there are ${request.inputs.length} inputs (one entry per input, in order)`,
    );
  }
  const names = new Set<string>();
  let total = 0;
  const bytes = { elements: 0, length: 0 };
  request.inputs.forEach((input, index) => {
    const label = input.name === "" ? `input #${index}` : `input "${input.name}"`;
    if (input.name === "") throw invalidArgument(`${label} has no name`);
    if (names.has(input.name)) throw invalidArgument(`${label} appears twice`);
    names.add(input.name);
    if (!isDatatype(input.datatype)) throw invalidArgument(`${label}: unknown datatype "${input.datatype}"`);
    // Limit by what is left of the request's element budget, so a huge
    // shape fails fast without overflowing.
    const count = elementCount(input.shape, maxTensorElements - total);
    if (count instanceof Error) {
      // Well-formed dimensions that still fail can only be over the budget.
      if (input.shape.every(isDimension)) throw tooManyElements(maxTensorElements);
      throw invalidArgument(`${label}: shape ${formatShape(input.shape)}: ${count.message}`);
    }
    total += count;
    const info = DATATYPE_INFO[input.datatype];
    if (raw.length > 0) {
      // Even an empty `contents {}` beside raw contents is refused (as the
      // worker does): a request is one form or the other, never both.
      if (input.contents !== undefined) {
        throw invalidArgument(`${label} has both contents and raw_input_contents; send one (drop "contents")`);
      }
      const entry = raw[index]!;
      if (info.allocate === null) {
        countBytesElements(bytes, count, limits);
        const scan = scanRawBytes(entry, count);
        if (scan instanceof Error) throw invalidArgument(`${label}: ${scan.message}`);
        if (scan.elements !== count) {
          throw invalidArgument(`${label}: BYTES raw contents hold ${scan.elements} elements but shape needs ${count}`);
        }
        countBytesLength(bytes, scan.contentBytes, limits);
      } else if (entry.byteLength !== count * info.byteSize) {
        throw invalidArgument(
          `${label}: raw contents hold ${entry.byteLength} bytes but ${input.datatype} shape ${formatShape(input.shape)} needs ${count * info.byteSize}`,
        );
      }
    } else {
      if (info.contentsField === null) {
        throw invalidArgument(`${label}: ${input.datatype} tensors must be sent as raw_input_contents`);
      }
      const length = (input.contents?.[info.contentsField] as readonly unknown[] | undefined)?.length ?? 0;
      if (length !== count) {
        throw invalidArgument(`${label}: contents hold ${length} elements but shape ${formatShape(input.shape)} needs ${count}`);
      }
      if (info.allocate === null) {
        countBytesElements(bytes, count, limits);
        countBytesLength(bytes, input.contents!.bytesContents.reduce((sum, item) => sum + item.byteLength, 0), limits);
      }
    }
  });
  const outputs = new Set<string>();
  for (const output of request.outputs) {
    if (output.name === "") throw invalidArgument("a requested output has no name");
    if (outputs.has(output.name)) throw invalidArgument(`output "${output.name}" is requested twice`);
    outputs.add(output.name);
  }
}

const MAX_DIM = BigInt(Number.MAX_SAFE_INTEGER);
const isDimension = (dim: bigint): boolean => dim >= 0n && dim <= MAX_DIM;

// BYTES elements become one JS object each on the worker (an ONNX string),
// so they have their own, much smaller budget than numbers; the bytes they
// hold are bounded separately. Both sums run over all inputs of a request.
function countBytesElements(sums: { elements: number }, count: number, limits: RequestLimits): void {
  sums.elements += count;
  if (sums.elements > limits.maxBytesElements) {
    throw tooLarge(
      `the request's BYTES tensors hold more than ${limits.maxBytesElements} elements in total (MAX_BYTES_ELEMENTS); split it into smaller requests`,
    );
  }
}

function countBytesLength(sums: { length: number }, bytes: number, limits: RequestLimits): void {
  sums.length += bytes;
  if (sums.length > limits.maxBytesLength) {
    throw tooLarge(
      `the request's BYTES elements hold more than ${limits.maxBytesLength} bytes in total (MAX_BYTES_LENGTH); split it into smaller requests`,
    );
  }
}

function tooLarge(message: string): GatewayError {
  // 413 tells HTTP clients the request itself is too large, not that they are rate limited.
  return new GatewayError(Code.ResourceExhausted, message, { httpStatus: 413 });
}

function tooManyElements(limit: number): GatewayError {
  return tooLarge(`the request's tensors hold more than ${limit} elements in total (MAX_TENSOR_ELEMENTS); split it into smaller requests`);
}

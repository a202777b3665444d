// The GraphQL schema: a typed view over the same GRPCInferenceService calls
// REST and Connect make. Descriptions are the API documentation clients see
// through introspection (in development) and in generated clients.
import { DATATYPES } from "../../common/oip/index.js";

export const typeDefs = /* GraphQL */ `
"""
A tensor's values: a JSON array of numbers, booleans (BOOL) or strings (BYTES), flat or nested to match the
shape, in row-major order. In results 64-bit integers beyond ±2^53 come as decimal strings and non-finite floats
as "NaN", "Infinity" or "-Infinity", as in the REST API.
"""
scalar TensorData

"""An object of parameters: names to booleans, numbers or strings (OIP InferParameter)."""
scalar Parameters

"""A 64-bit integer: a JSON number within ±2^53, a decimal string beyond."""
scalar Long

"""Tensor element types of the Open Inference Protocol."""
enum Datatype {
${DATATYPES.map((d) => `  ${d}`).join("\n")}
}

type Query {
  """Whether the edge answers and whether some GPU worker is ready."""
  health: Health!
  """The worker's name, version and protocol extensions."""
  server: ServerMetadata!
  """Every model the workers have loaded (from their statistics)."""
  models: [Model!]!
  """One model, or null with a NOT_FOUND error when the workers do not have it. Empty version: the latest."""
  model(name: String!, version: String): Model
  """
  Runs one inference. Fields that target the same batchable model with compatible inputs are merged into one
  upstream call along the batch dimension and split back per field.
  """
  infer(
    model: String!
    "Empty or absent: the version the model's version policy picks."
    version: String
    "Echoed back in the result; also what Mutation.cancelInference cancels the call by (a field with an id is never merged with others)."
    id: String
    inputs: [InferInput!]!
    "Outputs to return; absent: all of them."
    outputs: [RequestedOutput!]
    parameters: Parameters
  ): InferResult
}

type Mutation {
  """
  Cancels this caller's calls to model that are in flight under id (the id argument they were sent with): they end
  with a CANCELED error and the GPU worker drops them. A cancellation that arrives before its call makes the call
  fail on arrival. Use it where aborting the HTTP request does not reach the server (some HTTP/1.1 proxies).
  """
  cancelInference(model: String!, id: String!): CancelResult!
}

type CancelResult {
  """Calls that were in flight under the id and are now cancelled (0: finished, or not arrived yet)."""
  cancelled: Int!
}

type Subscription {
  """
  Live statistics, one update every intervalMs (at least GRAPHQL_MIN_INTERVAL_MS). Empty name: every model.
  Ends after limit updates when limit is given, else when the client disconnects.
  """
  modelStatistics(name: String, version: String, intervalMs: Int = 1000, limit: Int): StatisticsUpdate!
}

type Health {
  """The edge answers (always true when you can read it)."""
  live: Boolean!
  """Some GPU worker is ready to serve inference."""
  ready: Boolean!
}

type ServerMetadata {
  name: String!
  version: String!
  extensions: [String!]!
}

"""A model in the workers' repository."""
type Model {
  name: String!
  """Versions the workers serve."""
  versions: [String!]!
  """The version metadata was resolved for (the requested one, or the latest)."""
  version: String!
  """Model format, e.g. onnxruntime_onnx."""
  platform: String!
  inputs: [TensorMetadata!]!
  outputs: [TensorMetadata!]!
  """Whether the model (and version) is ready for inference."""
  ready: Boolean!
  """Where it runs on the worker: cuda, webgpu or cpu."""
  executionProvider: String
  """Largest batch; 0 means no batch dimension (and no request coalescing)."""
  maxBatchSize: Int!
  """Same inputs give the same outputs, so results may be cached."""
  deterministic: Boolean!
  """Rate-limit units per batch row."""
  costWeight: Float!
  """Live counters and timings from the worker."""
  statistics: [ModelStatistics!]!
  """Runs one inference on this model and version (see Query.infer)."""
  infer(id: String, inputs: [InferInput!]!, outputs: [RequestedOutput!], parameters: Parameters): InferResult
}

"""A model input or output as declared; -1 marks a variable dimension (the batch dimension among them)."""
type TensorMetadata {
  name: String!
  datatype: Datatype!
  shape: [Int!]!
  """Class names, index-aligned with the last dimension, when the model declares them (outputs only)."""
  labels: [String!]
}

input InferInput {
  name: String!
  datatype: Datatype!
  """Full shape, batch dimension first for batchable models."""
  shape: [Int!]!
  data: TensorData!
  parameters: Parameters
}

input RequestedOutput {
  name: String!
  parameters: Parameters
}

type InferResult {
  modelName: String!
  """The version that ran."""
  modelVersion: String!
  id: String
  parameters: Parameters
  outputs: [Tensor!]!
  """One output by name, or null."""
  output(name: String!): Tensor
  """
  For classifiers: the k best classes per batch row, from output (default: the first output with labels, else
  the first output). label is null when the model declares no labels.
  """
  top(k: Int = 1, output: String): [RowClasses!]!
}

type Tensor {
  name: String!
  datatype: Datatype!
  shape: [Int!]!
  """Values, flat in row-major order."""
  data: TensorData!
  parameters: Parameters
}

type RowClasses {
  """Batch row (0 for models without a batch dimension)."""
  row: Int!
  classes: [ClassScore!]!
}

type ClassScore {
  index: Int!
  label: String
  score: Float!
}

type Duration {
  count: Long!
  ns: Long!
}

type InferStatistics {
  """Requests that succeeded, with their total time in the worker."""
  success: Duration!
  """Requests that failed."""
  fail: Duration!
  """Time spent queued for a batch."""
  queue: Duration!
  computeInput: Duration!
  computeInfer: Duration!
  computeOutput: Duration!
}

type BatchStatistics {
  """Executed batch size; the entries form a histogram of batch sizes."""
  batchSize: Long!
  computeInput: Duration!
  computeInfer: Duration!
  computeOutput: Duration!
}

type ModelStatistics {
  name: String!
  version: String!
  """Unix time of the last inference, in milliseconds (0: none yet)."""
  lastInference: Long!
  """Rows inferred, across all requests."""
  inferenceCount: Long!
  """Executions (one per batch run)."""
  executionCount: Long!
  """Upstream requests answered (success + fail)."""
  requestCount: Long!
  inferenceStats: InferStatistics!
  batchStats: [BatchStatistics!]!
}

type StatisticsUpdate {
  """1 for the first update of this subscription, then counting up."""
  sequence: Int!
  """Unix time of this sample, in milliseconds."""
  at: Long!
  models: [ModelStatistics!]!
}
`;

// An in-process stand-in for GPU workers: a real connect-es router behind a
// fetch function, so the edge's real Connect client speaks the real binary
// protocol without a network. Each fake records what it received.
import { create } from "@bufbuild/protobuf";
import { createConnectRouter, type ServiceImpl } from "@connectrpc/connect";
import { createFetchHandler } from "@connectrpc/connect/protocol";
import {
  GRPCInferenceService,
  ModelInferResponseSchema,
  type ModelInferRequest,
} from "../../../gen/inference/grpc_service_pb.js";

export interface FakeWorker {
  readonly fetch: typeof fetch;
  readonly calls: { url: string; method: string; headers: Headers }[];
}

type Impl = Partial<ServiceImpl<typeof GRPCInferenceService>>;

/** Echo inference: every input comes back as "<name>_out" with the same bytes. */
export const echoImpl: Impl = {
  serverLive: () => ({ live: true }),
  serverReady: () => ({ ready: true }),
  serverMetadata: () => ({ name: "fake-worker", version: "9", extensions: ["model_repository"] }),
  modelReady: (req) => ({ ready: req.name === "iris" }),
  modelMetadata: (req) => ({
    name: req.name,
    versions: ["1"],
    platform: "onnxruntime_onnx",
    inputs: [{ name: "input", datatype: "FP32", shape: [-1n, 4n] }],
    outputs: [{ name: "label", datatype: "INT64", shape: [-1n, 1n] }],
    parameters: { max_batch_size: { parameterChoice: { case: "int64Param", value: 64n } } },
  }),
  modelInfer: (req: ModelInferRequest) =>
    create(ModelInferResponseSchema, {
      modelName: req.modelName,
      modelVersion: req.modelVersion || "1",
      id: req.id,
      outputs: req.inputs.map((input) => ({ name: `${input.name}_out`, datatype: input.datatype, shape: input.shape })),
      rawOutputContents: req.rawInputContents,
    }),
  modelStatistics: () => ({ modelStats: [{ name: "iris", version: "1", inferenceCount: 3n }] }),
};

/** One fake worker per base URL; URLs without an entry refuse connections. */
export function fakeWorkers(workers: Record<string, Impl>): FakeWorker {
  const handlers = new Map<string, ReturnType<typeof createFetchHandler>>();
  for (const [base, impl] of Object.entries(workers)) {
    const router = createConnectRouter().service(GRPCInferenceService, impl);
    for (const h of router.handlers) handlers.set(`${base}${h.requestPath}`, createFetchHandler(h));
  }
  const calls: FakeWorker["calls"] = [];
  const fetchFn = (async (input: string | URL | Request, init?: RequestInit) => {
    const request = new Request(input, init);
    calls.push({ url: request.url, method: request.method, headers: request.headers });
    const handler = handlers.get(request.url);
    if (handler === undefined) throw new TypeError("fetch failed: connect ECONNREFUSED");
    // Like a real fetch, reject as soon as the caller aborts.
    return new Promise<Response>((resolve, reject) => {
      const abort = () => reject(request.signal.reason ?? new DOMException("aborted", "AbortError"));
      if (request.signal.aborted) return abort();
      request.signal.addEventListener("abort", abort, { once: true });
      handler(request).then(resolve, reject);
    });
  }) as typeof fetch;
  return { fetch: fetchFn, calls };
}

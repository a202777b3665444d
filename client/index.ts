// The browser client: the generated GRPCInferenceService client over
// @connectrpc/connect-web (Connect JSON, Connect binary or gRPC-Web), plus
// small helpers that turn plain arrays into OIP tensors and back. Tensors go
// out as binary `raw_input_contents` by default (no per-element protobuf
// framing, so fewer bytes and less work on both ends); the byte layout comes
// from common/oip, the codec the edge and the workers use, so there is one
// definition of the wire format.
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type Client, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-web";
import {
  DATATYPE_INFO,
  bf16BitsToNumber,
  decodeOutput,
  elementCount,
  encodeRaw,
  fp16BitsToNumber,
  numberToBf16Bits,
  numberToFp16Bits,
  type Datatype,
  type TensorValues,
} from "../common/oip/index.js";
import {
  GRPCInferenceService,
  InferTensorContentsSchema,
  ModelInferRequestSchema,
  type ModelInferRequest,
  type ModelInferResponse,
} from "../gen/inference/grpc_service_pb.js";

export { Code, ConnectError, GRPCInferenceService };
export type { Datatype, ModelInferRequest, ModelInferResponse };

export type Protocol = "connect-json" | "connect-binary" | "grpc-web";
export const PROTOCOLS: readonly Protocol[] = ["connect-json", "connect-binary", "grpc-web"];

export type InferenceClient = Client<typeof GRPCInferenceService>;

export interface ClientOptions {
  /** The edge, e.g. "https://gateway.example.com" (no trailing path). */
  baseUrl: string;
  /** Default "grpc-web". */
  protocol?: Protocol;
  /** Sent as `authorization: Bearer …` on every call when set. */
  apiKey?: string;
  /** Extra headers on every call (e.g. `cache-control: no-store`). */
  headers?: Record<string, string>;
  /** A fetch to use instead of the global one (e.g. to meter bytes). */
  fetch?: typeof globalThis.fetch;
  /**
   * When a ModelInfer call is aborted (its AbortSignal), also tell the edge
   * with ModelInferCancel, so the GPU worker stops working on it even where
   * the connection cannot carry the cancellation (HTTP/1.1 hops). Calls made
   * with a signal but without an id get a random one for this (calls without
   * a signal cannot be aborted and go unchanged). Default true.
   */
  cancelOnAbort?: boolean;
}

/** The generated client over the chosen browser protocol. */
export function createGatewayClient(options: ClientOptions): InferenceClient {
  const headers: Record<string, string> = { ...options.headers };
  if (options.apiKey) headers.authorization = `Bearer ${options.apiKey}`;
  const addHeaders: Interceptor = (next) => async (req) => {
    for (const [name, value] of Object.entries(headers)) req.header.set(name, value);
    return next(req);
  };
  const common = {
    baseUrl: options.baseUrl,
    interceptors: [addHeaders],
    // Bound so the global is looked up per call (tests and pages may patch it).
    fetch: options.fetch ?? ((...args: Parameters<typeof globalThis.fetch>) => globalThis.fetch(...args)),
  };
  const interceptors: Interceptor[] = options.cancelOnAbort === false ? common.interceptors : [...common.interceptors, cancelOnAbort(() => client)];
  const protocol = options.protocol ?? "grpc-web";
  const transport =
    protocol === "grpc-web"
      ? createGrpcWebTransport({ ...common, interceptors })
      : createConnectTransport({ ...common, interceptors, useBinaryFormat: protocol === "connect-binary" });
  const client: InferenceClient = createClient(GRPCInferenceService, transport);
  if (options.cancelOnAbort === false) return client;
  return {
    ...client,
    // An abortable call needs an id to be cancelled by; the others keep their bytes.
    modelInfer: (request, callOptions) =>
      client.modelInfer(callOptions?.signal && !request.id ? { ...request, id: newCallId() } : request, callOptions),
  };
}

/**
 * If the caller aborts a ModelInfer call that has an id before the answer,
 * sends ModelInferCancel for that id. A browser
 * that aborts an HTTP/1.1 fetch only closes its connection, and a proxy or
 * runtime in between may not pass that on; the explicit cancel always
 * arrives. It is fire-and-forget: the aborted call has already failed.
 */
function cancelOnAbort(client: () => InferenceClient): Interceptor {
  return (next) => async (req) => {
    if (req.stream || req.method.name !== "ModelInfer") return next(req);
    const { modelName, id } = req.message as ModelInferRequest;
    if (id === "") return next(req);
    const onAbort = (): void => {
      // A passed deadline travels with the call itself (timeout headers).
      if (ConnectError.from(req.signal.reason).code === Code.DeadlineExceeded) return;
      client()
        .modelInferCancel({ modelName, id })
        .catch(() => undefined);
    };
    req.signal.addEventListener("abort", onAbort, { once: true });
    try {
      return await next(req);
    } finally {
      req.signal.removeEventListener("abort", onAbort);
    }
  };
}

/** A fresh request id: 128 random bits, hex (crypto.randomUUID needs a secure context; this does not). */
export function newCallId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** A nested array of one element type, any depth (row-major). */
export type Nested<T> = T | readonly Nested<T>[];
export type Element = number | bigint | boolean | string;

/** A tensor as plain values: what you write and what you read back. */
export interface PlainTensor {
  name: string;
  datatype: Datatype;
  shape: number[];
  /** Row-major, flat. INT64/UINT64 come back as numbers when exact, else bigint. */
  data: Element[];
}

export interface TensorInput {
  name: string;
  datatype: Datatype;
  shape: readonly number[];
  /** Flat or nested, row-major. */
  data: Nested<Element> | ArrayLike<number>;
}

export interface RequestOptions {
  version?: string;
  id?: string;
  /** Names of the outputs to return; default all. */
  outputs?: string[];
  /** false: typed `contents` instead of raw bytes (FP16/BF16 have no typed form in OIP). Default true. */
  raw?: boolean;
}

/** Builds a ModelInferRequest from plain arrays (binary raw contents by default). */
export function inferRequest(model: string, inputs: readonly TensorInput[], options: RequestOptions = {}): ModelInferRequest {
  const raw = options.raw ?? true;
  const rawContents: Uint8Array[] = [];
  const tensors = inputs.map((input) => {
    const values = toValues(input);
    const base = { name: input.name, datatype: input.datatype, shape: input.shape.map((d) => BigInt(d)) };
    if (raw) {
      rawContents.push(encodeRaw(values));
      return base;
    }
    return { ...base, contents: typedContents(input.datatype, values) };
  });
  return create(ModelInferRequestSchema, {
    modelName: model,
    modelVersion: options.version ?? "",
    id: options.id ?? "",
    inputs: tensors,
    outputs: (options.outputs ?? []).map((name) => ({ name })),
    rawInputContents: rawContents,
  });
}

/** Converts plain values into the typed array (or byte strings) common/oip encodes. */
export function toValues(input: TensorInput): TensorValues {
  const flat = flatten(input.data);
  const count = elementCount(input.shape);
  if (count instanceof Error) throw new TypeError(`${input.name}: ${count.message}`);
  if (flat.length !== count) {
    throw new TypeError(`${input.name}: shape [${input.shape.join(", ")}] needs ${count} values, got ${flat.length}`);
  }
  const { allocate } = DATATYPE_INFO[input.datatype];
  if (allocate === null) {
    const utf8 = new TextEncoder();
    return flat.map((v) => (typeof v === "string" ? utf8.encode(v) : utf8.encode(String(v))));
  }
  const out = allocate(count);
  for (let i = 0; i < count; i++) {
    const v = flat[i]!;
    if (out instanceof BigInt64Array || out instanceof BigUint64Array) out[i] = BigInt(v as number | bigint | string);
    else if (input.datatype === "FP16") out[i] = numberToFp16Bits(Number(v));
    else if (input.datatype === "BF16") out[i] = numberToBf16Bits(Number(v));
    else out[i] = typeof v === "boolean" ? (v ? 1 : 0) : Number(v);
  }
  return out;
}

function typedContents(datatype: Datatype, values: TensorValues) {
  const field = DATATYPE_INFO[datatype].contentsField;
  if (field === null) throw new TypeError(`${datatype} has no typed contents in OIP; send it raw`);
  const list = Array.isArray(values)
    ? values
    : datatype === "BOOL"
      ? Array.from(values as Uint8Array, (b) => b === 1)
      : Array.from(values as ArrayLike<number | bigint>);
  return create(InferTensorContentsSchema, { [field]: list });
}

function flatten(data: TensorInput["data"]): Element[] {
  if (typeof data !== "object" || data === null) return [data as Element];
  const out: Element[] = [];
  const walk = (value: unknown): void => {
    if (typeof value === "object" && value !== null && typeof (value as ArrayLike<unknown>).length === "number") {
      for (let i = 0; i < (value as ArrayLike<unknown>).length; i++) walk((value as ArrayLike<unknown>)[i]);
    } else out.push(value as Element);
  };
  walk(data);
  return out;
}

/** Reads every output (raw or typed contents) back into plain values. */
export function outputsOf(response: ModelInferResponse): PlainTensor[] {
  return response.outputs.map((output, index) => {
    const values = decodeOutput(response, index);
    if (values instanceof Error) throw new TypeError(values.message);
    // decodeOutput has checked the datatype.
    const datatype = output.datatype as Datatype;
    return { name: output.name, datatype, shape: output.shape.map(Number), data: plainValues(datatype, values) };
  });
}

function plainValues(datatype: Datatype, values: TensorValues): Element[] {
  if (Array.isArray(values)) {
    const utf8 = new TextDecoder();
    return values.map((bytes) => utf8.decode(bytes));
  }
  switch (datatype) {
    case "FP16":
      return Array.from(values as Uint16Array, fp16BitsToNumber);
    case "BF16":
      return Array.from(values as Uint16Array, bf16BitsToNumber);
    case "BOOL":
      return Array.from(values as Uint8Array, (b) => b === 1);
    default:
      // 64-bit integers stay exact: a number when it fits, else the bigint.
      return Array.from(values as ArrayLike<number | bigint>, (v) =>
        typeof v === "bigint" && v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(v) : v,
      );
  }
}

/** A readable one-liner for any error a call throws: "not_found: model \"x\" …". */
export function describeError(error: unknown): { code: string; message: string } {
  const connectError = ConnectError.from(error);
  const name = Code[connectError.code] ?? "unknown";
  // Code names are PascalCase in connect-es; the wire names are snake_case.
  const code = name.replace(/[A-Z]/g, (c, i: number) => (i === 0 ? c.toLowerCase() : `_${c.toLowerCase()}`));
  return { code, message: connectError.rawMessage };
}

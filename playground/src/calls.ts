// One inference over any of the page's protocols, measured the same way for
// each: wall time around the whole call (body read included), request and
// response body bytes as they crossed the wire, the HTTP status and the
// headers the edge adds (x-cache, Server-Timing, rate limits). Every protocol
// takes the same OIP REST-style body, so the results can be compared.
import {
  createGatewayClient,
  describeError,
  inferRequest,
  newCallId,
  outputsOf,
  type Datatype,
  type Element,
  type PlainTensor,
  type Protocol,
  type TensorInput,
} from "../../client/index.js";

export type PageProtocol = "rest" | Protocol | "graphql";

export const PAGE_PROTOCOLS: readonly { id: PageProtocol; label: string; colour: string }[] = [
  { id: "rest", label: "REST", colour: "#2563eb" },
  { id: "connect-json", label: "Connect JSON", colour: "#d97706" },
  { id: "connect-binary", label: "Connect binary", colour: "#059669" },
  { id: "grpc-web", label: "gRPC-Web", colour: "#db2777" },
  { id: "graphql", label: "GraphQL", colour: "#7c3aed" },
];

/** The request as the JSON editor holds it: OIP REST's body. */
export interface InferBody {
  inputs: TensorInput[];
  outputs?: { name: string }[];
}

export interface CallSettings {
  baseUrl: string;
  model: string;
  version?: string;
  apiKey?: string;
  /** Sends `cache-control: no-store` so every call reaches a worker. */
  bypassCache?: boolean;
  signal?: AbortSignal;
}

export interface CallResult {
  protocol: PageProtocol;
  ok: boolean;
  /** "OK" or the error code (snake_case, as on the wire). */
  code: string;
  message?: string;
  httpStatus: number;
  outputs?: PlainTensor[];
  modelVersion?: string;
  /** Headers worth showing (lower-case names). */
  headers: Record<string, string>;
  latencyMs: number;
  requestBytes: number;
  responseBytes: number;
}

const SHOWN_HEADERS = ["x-cache", "cache-status", "server-timing", "retry-after", "ratelimit", "ratelimit-policy", "x-request-id", "grpc-status", "grpc-message"];

interface Exchange {
  status: number;
  headers: Headers;
  requestBytes: number;
  responseBytes: number;
}

function byteLength(body: BodyInit | null | undefined): number {
  if (body === null || body === undefined) return 0;
  if (typeof body === "string") return new TextEncoder().encode(body).byteLength;
  if (body instanceof ArrayBuffer) return body.byteLength;
  if (ArrayBuffer.isView(body)) return body.byteLength;
  if (body instanceof Blob) return body.size;
  return 0;
}

/**
 * A fetch that records what went over the wire. It buffers the response body
 * (every call here is unary) to count its bytes, then hands an equivalent
 * Response to the caller, so connect-web parses exactly what arrived.
 */
function meteredFetch(record: (exchange: Exchange) => void): typeof fetch {
  return async (input, init) => {
    const requestBytes = byteLength(init?.body);
    const response = await fetch(input, init);
    const body = await response.arrayBuffer();
    record({ status: response.status, headers: response.headers, requestBytes, responseBytes: body.byteLength });
    return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
  };
}

const REST_CODES: Record<number, string> = {
  400: "invalid_argument",
  401: "unauthenticated",
  403: "permission_denied",
  404: "not_found",
  408: "deadline_exceeded",
  413: "resource_exhausted",
  429: "resource_exhausted",
  499: "canceled",
  501: "unimplemented",
  503: "unavailable",
  504: "deadline_exceeded",
};

function headersOf(headers: Headers | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of SHOWN_HEADERS) {
    const value = headers?.get(name);
    if (value !== null && value !== undefined) out[name] = value;
  }
  return out;
}

function authHeaders(settings: CallSettings): Record<string, string> {
  const headers: Record<string, string> = {};
  if (settings.apiKey) headers.authorization = `Bearer ${settings.apiKey}`;
  if (settings.bypassCache) headers["cache-control"] = "no-store";
  return headers;
}

/** Runs one inference; never throws: a failed call (bad body, network, edge error) is a result that says why. */
export async function runCall(protocol: PageProtocol, body: InferBody, settings: CallSettings): Promise<CallResult> {
  let exchange: Exchange | undefined;
  const fetcher = meteredFetch((e) => (exchange = e));
  const started = performance.now();
  let partial: Pick<CallResult, "ok" | "code" | "message" | "outputs" | "modelVersion">;
  try {
    switch (protocol) {
      case "rest":
        partial = await viaRest(fetcher, body, settings);
        break;
      case "graphql":
        partial = await viaGraphql(fetcher, body, settings);
        break;
      default:
        partial = await viaConnect(protocol, fetcher, body, settings);
    }
  } catch (error) {
    const { code, message } = describeError(error);
    partial = { ok: false, code, message };
  }
  const latencyMs = performance.now() - started;
  return {
    protocol,
    ...partial,
    httpStatus: exchange?.status ?? 0,
    headers: headersOf(exchange?.headers),
    latencyMs,
    requestBytes: exchange?.requestBytes ?? 0,
    responseBytes: exchange?.responseBytes ?? 0,
  };
}

async function viaConnect(protocol: Protocol, fetcher: typeof fetch, body: InferBody, settings: CallSettings) {
  const client = createGatewayClient({ baseUrl: settings.baseUrl, protocol, headers: authHeaders(settings), fetch: fetcher });
  const request = inferRequest(settings.model, body.inputs, {
    ...(settings.version ? { version: settings.version } : {}),
    ...(body.outputs ? { outputs: body.outputs.map((o) => o.name) } : {}),
  });
  const response = await client.modelInfer(request, settings.signal ? { signal: settings.signal } : {});
  return { ok: true, code: "ok", outputs: outputsOf(response), modelVersion: response.modelVersion };
}

/**
 * An abortable REST or GraphQL call carries an id; aborting it also sends
 * `cancel` for that id (as the client does for Connect and gRPC-Web), since
 * the abort alone may never reach the worker. Fire-and-forget.
 */
function cancelOnAbort(settings: CallSettings, cancel: (id: string) => Promise<unknown>, ownId?: unknown): string | undefined {
  const signal = settings.signal;
  if (signal === undefined) return undefined;
  const id = typeof ownId === "string" && ownId !== "" ? ownId : newCallId();
  signal.addEventListener("abort", () => void cancel(id).catch(() => undefined), { once: true });
  return id;
}

const postJson = (settings: CallSettings, path: string, body: unknown, extraHeaders: Record<string, string> = {}) =>
  fetch(`${settings.baseUrl}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...extraHeaders, ...authHeaders(settings) },
    body: JSON.stringify(body),
  });

async function viaRest(fetcher: typeof fetch, body: InferBody, settings: CallSettings) {
  const model = encodeURIComponent(settings.model);
  const path = `/v2/models/${model}${settings.version ? `/versions/${encodeURIComponent(settings.version)}` : ""}/infer`;
  // An id typed into the raw JSON editor is kept.
  const ownId = (body as { id?: unknown }).id;
  const id = cancelOnAbort(settings, (id) => postJson(settings, `/v2/models/${model}/cancel`, { id }), ownId);
  const response = await fetcher(`${settings.baseUrl}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...authHeaders(settings) },
    body: JSON.stringify(id === undefined ? body : { ...body, id }),
    ...(settings.signal ? { signal: settings.signal } : {}),
  });
  const json = (await response.json().catch(() => ({}))) as {
    error?: string;
    model_version?: string;
    outputs?: { name: string; datatype: Datatype; shape: number[]; data: unknown[] }[];
  };
  if (!response.ok) {
    return { ok: false, code: REST_CODES[response.status] ?? "unknown", message: json.error ?? response.statusText };
  }
  return { ok: true, code: "ok", outputs: (json.outputs ?? []).map(normalise), modelVersion: json.model_version ?? "" };
}

/** The infer query; an abortable call also sends an id to cancel it by (the others keep their bytes). */
const graphqlInfer = (withId: boolean) => `query Infer($model: String!, $version: String,${withId ? " $id: String," : ""} $inputs: [InferInput!]!, $outputs: [RequestedOutput!]) {
  infer(model: $model, version: $version,${withId ? " id: $id," : ""} inputs: $inputs, outputs: $outputs) {
    modelVersion
    outputs { name datatype shape data }
  }
}`;

const GRAPHQL_CANCEL = `mutation Cancel($model: String!, $id: String!) { cancelInference(model: $model, id: $id) { cancelled } }`;
const GRAPHQL_HEADERS = { accept: "application/graphql-response+json, application/json" };

async function viaGraphql(fetcher: typeof fetch, body: InferBody, settings: CallSettings) {
  const inputs = body.inputs.map((i) => ({ name: i.name, datatype: i.datatype, shape: i.shape, data: flat(i.data) }));
  const id = cancelOnAbort(settings, (id) =>
    postJson(settings, "/graphql", { query: GRAPHQL_CANCEL, variables: { model: settings.model, id } }, GRAPHQL_HEADERS),
  );
  const response = await fetcher(`${settings.baseUrl}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", ...GRAPHQL_HEADERS, ...authHeaders(settings) },
    body: JSON.stringify({
      query: graphqlInfer(id !== undefined),
      variables: { model: settings.model, version: settings.version ?? null, ...(id !== undefined ? { id } : {}), inputs, outputs: body.outputs ?? null },
    }),
    ...(settings.signal ? { signal: settings.signal } : {}),
  });
  const json = (await response.json().catch(() => ({}))) as {
    data?: { infer?: { modelVersion: string; outputs: { name: string; datatype: Datatype; shape: number[]; data: unknown[] }[] } | null };
    errors?: { message: string; extensions?: { code?: string } }[];
  };
  const error = json.errors?.[0];
  if (error || !json.data?.infer) {
    const graphqlCode = error?.extensions?.code;
    // The edge names GraphQL errors after the Connect codes in upper case,
    // plus RATE_LIMITED (a resource_exhausted with Retry-After): show the
    // wire code like every other protocol, keep GraphQL's own in the message.
    const code = graphqlCode
      ? graphqlCode === "RATE_LIMITED" ? "resource_exhausted" : graphqlCode.toLowerCase()
      : REST_CODES[response.status] ?? "unknown";
    const message = error?.message ?? response.statusText;
    return { ok: false, code, message: graphqlCode ? `${message} (GraphQL ${graphqlCode})` : message };
  }
  return { ok: true, code: "ok", outputs: json.data.infer.outputs.map(normalise), modelVersion: json.data.infer.modelVersion };
}

function flat(data: unknown): unknown[] {
  return Array.isArray(data) ? data.flat(Infinity) : [data];
}

/**
 * JSON protocols write 64-bit integers as numbers or (past 2^53) strings;
 * bring them to the client helper's form (number when exact, else bigint)
 * so every protocol's result compares equal.
 */
function normalise(t: { name: string; datatype: Datatype; shape: number[]; data: unknown }): PlainTensor {
  const values = flat(t.data).map((v): Element => {
    if (typeof v === "string" && /^-?\d+$/.test(v) && /INT/.test(t.datatype)) {
      const big = BigInt(v);
      return big <= BigInt(Number.MAX_SAFE_INTEGER) && big >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(big) : big;
    }
    if (typeof v === "string" && /^FP|BF/.test(t.datatype)) return Number(v);
    return v as Element;
  });
  return { name: t.name, datatype: t.datatype, shape: t.shape.map(Number), data: values };
}

/** A stable text form of outputs, for "are these identical" checks (bigints included). */
export function outputsKey(outputs: PlainTensor[] | undefined): string {
  return JSON.stringify(outputs ?? null, (_k, v: unknown) => (typeof v === "bigint" ? `${v}n` : v));
}

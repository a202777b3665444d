// Serves GRPCInferenceService for the Connect protocol (JSON and binary) and
// gRPC-Web inside Hono. The router and its per-method handlers are built once
// per isolate; a request only costs a map lookup before connect-es runs.
// The gRPC protocol itself is off: it needs HTTP trailers, which a Worker
// cannot send.
import { Code, ConnectError, createConnectRouter, createContextValues, type ConnectRouter } from "@connectrpc/connect";
import {
  universalServerRequestFromFetch,
  universalServerResponseToFetch,
  type UniversalHandler,
  type UniversalServerResponse,
} from "@connectrpc/connect/protocol";
import { errorFromJsonBytes, errorToJsonBytes } from "@connectrpc/connect/protocol-connect";
import { trailerFlag, trailerParse, trailerSerialize } from "@connectrpc/connect/protocol-grpc-web";
import { GRPCInferenceService } from "../../gen/inference/grpc_service_pb.js";
import type { EdgeConfig } from "../config.js";
import type { Pipeline } from "../pipeline/index.js";
import type { RequestScope } from "../pipeline/context.js";
import { scopeKey } from "./scope.js";
import { createInferenceService } from "./service.js";

/** Path prefix of every RPC: "/inference.GRPCInferenceService/". */
export const CONNECT_PREFIX = `/${GRPCInferenceService.typeName}/`;

export type ConnectHandler = (request: Request, scope: RequestScope) => Promise<Response>;

export function createConnectHandler(
  pipeline: Pipeline,
  config: Pick<EdgeConfig, "requestTimeoutMs" | "maxBodyBytes">,
): ConnectHandler {
  const router: ConnectRouter = createConnectRouter({
    grpc: false,
    grpcWeb: true,
    connect: true,
    readMaxBytes: config.maxBodyBytes,
    // maxTimeoutMs stays unlimited: a longer client deadline is not an error,
    // the pipeline simply caps it at REQUEST_TIMEOUT_MS.
  });
  router.service(GRPCInferenceService, createInferenceService(pipeline, config));
  const handlers = new Map<string, UniversalHandler>(router.handlers.map((h) => [h.requestPath, h]));

  return async (request, scope) => {
    const url = new URL(request.url);
    const handler = handlers.get(url.pathname);
    if (handler === undefined) {
      return connectJson(new ConnectError(`no such method ${url.pathname}`, Code.Unimplemented), 404);
    }
    if (!handler.allowedMethods.includes(request.method)) {
      return new Response(null, { status: 405, headers: { allow: handler.allowedMethods.join(", ") } });
    }
    if (!handler.supportedContentType(request.headers.get("content-type") ?? "")) {
      return new Response(null, { status: 415 });
    }
    const universal = {
      ...universalServerRequestFromFetch(request, {}),
      contextValues: createContextValues().set(scopeKey, scope),
    };
    const response = await handler(universal);
    return universalServerResponseToFetch(await unreadableBodyIsInvalidArgument(response));
  };
}

// connect-es answers a binary body that is not a valid protobuf message with
// `internal` ("parse binary: ..."), i.e. a server fault. It is the client's
// fault, so it should be `invalid_argument`. The parse happens inside the
// protocol handler before any interceptor runs, and the serializer cannot be
// swapped, so the only clean seam is the handler's response: on the error
// path only (HTTP 500 for Connect, a lone trailer frame for gRPC-Web), an
// `internal` whose message starts with "parse binary:" is rewritten. The
// success path is untouched. A test pins this against connect-es upgrades.
const PARSE_PREFIX = "parse binary:";

async function unreadableBodyIsInvalidArgument(res: UniversalServerResponse): Promise<UniversalServerResponse> {
  if (res.body === undefined) return res;
  const contentType = res.header?.get("content-type") ?? "";
  if (contentType.startsWith("application/grpc-web")) return rewriteGrpcWeb(res);
  if (res.status !== 500 || !contentType.startsWith("application/json")) return res;
  const bytes = await collect(res.body as AsyncIterable<Uint8Array>);
  const error = errorFromJsonBytes(bytes, undefined, new ConnectError("internal error", Code.Internal));
  if (error.code === Code.Internal && error.rawMessage.startsWith(PARSE_PREFIX)) {
    const fixed = errorToJsonBytes(new ConnectError(unreadable(error.rawMessage), Code.InvalidArgument), {});
    const header = new Headers(res.header);
    header.set("content-length", String(fixed.byteLength));
    return { ...res, status: 400, header, body: single(fixed) };
  }
  return { ...res, body: single(bytes) };
}

function rewriteGrpcWeb(res: UniversalServerResponse): UniversalServerResponse {
  const body = res.body as AsyncIterable<Uint8Array>;
  return {
    ...res,
    body: (async function* () {
      const it = body[Symbol.asyncIterator]();
      const first = await it.next();
      if (first.done) return;
      yield fixTrailerFrame(first.value);
      for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
    })(),
  };
}

/** A response that is only a trailer frame with grpc-status 13 + parse message gets status 3. */
function fixTrailerFrame(chunk: Uint8Array): Uint8Array {
  if (chunk.byteLength < 5 || chunk[0] !== trailerFlag) return chunk;
  const length = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength).getUint32(1);
  if (chunk.byteLength !== 5 + length) return chunk;
  const trailer = trailerParse(chunk.subarray(5));
  const message = decodeURIComponent(trailer.get("grpc-message") ?? "");
  if (trailer.get("grpc-status") !== String(Code.Internal) || !message.startsWith(PARSE_PREFIX)) return chunk;
  trailer.set("grpc-status", String(Code.InvalidArgument));
  trailer.set("grpc-message", encodeURIComponent(unreadable(message)));
  const data = trailerSerialize(trailer);
  const out = new Uint8Array(5 + data.byteLength);
  out[0] = trailerFlag;
  new DataView(out.buffer).setUint32(1, data.byteLength);
  out.set(data, 5);
  return out;
}

const unreadable = (message: string): string => `request body is not a valid protobuf message (${message})`;

async function collect(body: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of body) {
    chunks.push(chunk);
    size += chunk.byteLength;
  }
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

async function* single(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  yield bytes;
}

function connectJson(error: ConnectError, status: number): Response {
  return new Response(errorToJsonBytes(error, {}), { status, headers: { "content-type": "application/json" } });
}

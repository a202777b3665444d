// Clients for every protocol the gateway speaks, built from off-the-shelf
// libraries: connect-node transports (Connect JSON/binary, gRPC-Web, gRPC)
// and @grpc/grpc-js with @grpc/proto-loader (what a Triton user would use).
import { ConnectError, createClient, type Client, type Code, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { join } from "node:path";
import { GRPCInferenceService } from "../../gen/inference/grpc_service_pb.js";
import { ROOT } from "./paths.js";

export type InferenceClient = Client<typeof GRPCInferenceService>;

export type EdgeProtocol = "connect-json" | "connect-binary" | "grpc-web";
export type WorkerProtocol = "connect-h2" | "grpc-web-h2" | "grpc-h2";

/** A client at the edge (workerd speaks HTTP/1.1 to its clients here). */
export function edgeClient(baseUrl: string, protocol: EdgeProtocol, headers: Record<string, string> = {}): InferenceClient {
  const interceptors = [withHeaders(headers)];
  const transport: Transport =
    protocol === "grpc-web"
      ? createGrpcWebTransport({ baseUrl, httpVersion: "1.1", interceptors })
      : createConnectTransport({ baseUrl, httpVersion: "1.1", useBinaryFormat: protocol === "connect-binary", interceptors });
  return createClient(GRPCInferenceService, transport);
}

/** A client straight to a worker over HTTP/2 (h2c). */
export function workerClient(baseUrl: string, protocol: WorkerProtocol, headers: Record<string, string> = {}): InferenceClient {
  const interceptors = [withHeaders(headers)];
  const options = { baseUrl, httpVersion: "2" as const, interceptors };
  const transport: Transport =
    protocol === "grpc-h2"
      ? createGrpcTransport(options)
      : protocol === "grpc-web-h2"
        ? createGrpcWebTransport(options)
        : createConnectTransport({ ...options, useBinaryFormat: true });
  return createClient(GRPCInferenceService, transport);
}

function withHeaders(headers: Record<string, string>) {
  return (next: Parameters<import("@connectrpc/connect").Interceptor>[0]) =>
    async (req: Parameters<Parameters<import("@connectrpc/connect").Interceptor>[0]>[0]) => {
      for (const [key, value] of Object.entries(headers)) req.header.set(key, value);
      return next(req);
    };
}

/** An @grpc/grpc-js client generated at run time from our .proto, as any gRPC user would. */
export function grpcJsClient(address: string): grpc.Client & Record<string, Function> {
  const definition = protoLoader.loadSync(join(ROOT, "proto/inference/grpc_service.proto"), {
    longs: String,
    defaults: true,
    keepCase: true,
  });
  const loaded = grpc.loadPackageDefinition(definition) as unknown as {
    inference: { GRPCInferenceService: grpc.ServiceClientConstructor };
  };
  return new loaded.inference.GRPCInferenceService(address, grpc.credentials.createInsecure()) as never;
}

/** Promisifies a unary grpc-js call. */
export function grpcUnary<T>(client: grpc.Client & Record<string, Function>, method: string, request: object, metadata = new grpc.Metadata()): Promise<T> {
  return new Promise((resolve, reject) => {
    client[method]!.call(client, request, metadata, (error: grpc.ServiceError | null, response: T) =>
      error ? reject(error) : resolve(response),
    );
  });
}

/** POSTs JSON (or raw text) to the edge and returns status, headers and parsed body. */
export async function restCall(
  url: string,
  body?: unknown,
  init: RequestInit = {},
): Promise<{ status: number; headers: Headers; json: any; text: string }> {
  // Extra headers join the JSON content type (spreading init last would drop it).
  const { headers: extraHeaders, ...rest } = init;
  const response = await fetch(url, {
    method: body === undefined ? "GET" : "POST",
    headers: { "content-type": "application/json", ...(extraHeaders as Record<string, string>) },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    ...rest,
  });
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, json, text };
}

/** Settles a call to "ok" or its Connect code, so tests can compare outcomes. */
export async function codeOf(promise: Promise<unknown>): Promise<Code | "ok"> {
  try {
    await promise;
    return "ok";
  } catch (error) {
    return ConnectError.from(error).code;
  }
}

// connect-es 2.1 answers a few of the caller's own mistakes as `internal`,
// which reads as a server fault (HTTP 500, gRPC status 13) to the caller, to
// the edge's retry logic and to our metrics:
// - a body that is not the method's protobuf message ("parse binary: ...");
// - an envelope flagged as compressed without any grpc-encoding;
// - a compressed body that does not inflate ("decompression failed").
// Interceptors cannot fix this (connect parses before they run) and connect
// gives these errors no mark but their message, so this rewrites exactly
// these, keeping the message, to invalid_argument in whichever wire format the
// answer is in. Everything else passes through untouched.
import { Code, ConnectError } from "@connectrpc/connect";
import { encodeEnvelope, type UniversalServerResponse } from "@connectrpc/connect/protocol";
import { createEndStreamSerialization, endStreamFlag, errorFromJsonBytes } from "@connectrpc/connect/protocol-connect";
import { findTrailerError, setTrailerStatus } from "@connectrpc/connect/protocol-grpc";
import { trailerFlag, trailerParse, trailerSerialize } from "@connectrpc/connect/protocol-grpc-web";
import { errorResponse, type WireProtocol } from "./error-answer.js";

const CLIENT_FAULTS = [/^parse binary: /, /^received compressed envelope, but do not know how to decompress/, /^decompression failed/];

/** The invalid_argument error an internal error should have been, or undefined when it really is internal. */
export function asClientFault(error: ConnectError | undefined): ConnectError | undefined {
  if (error?.code !== Code.Internal || !CLIENT_FAULTS.some((pattern) => pattern.test(error.rawMessage))) return undefined;
  return new ConnectError(`the request is not a valid message: ${error.rawMessage}`, Code.InvalidArgument);
}

const endStream = createEndStreamSerialization(undefined);

/** The same answer, with connect's misfiled client faults reported as invalid_argument. */
export async function reclassifyClientFaults(protocol: WireProtocol, response: UniversalServerResponse): Promise<UniversalServerResponse> {
  const { body } = response;
  if (protocol === "grpc") {
    if (body !== undefined) return { ...response, body: grpcTrailer(body, response.trailer) };
    fixTrailer(response.trailer);
    return response;
  }
  if (body === undefined) return response;
  switch (protocol) {
    case "connect":
      return response.status === 500 ? unaryConnect(response, body) : response;
    case "grpc-web":
      return { ...response, body: mapLastFrame(body, trailerFlag, grpcWebTrailer) };
    case "connect-stream":
      return { ...response, body: mapLastFrame(body, endStreamFlag, connectEndStream) };
  }
}

/** Connect unary: the error is the whole (small, JSON) body of a 500. */
async function unaryConnect(response: UniversalServerResponse, body: AsyncIterable<Uint8Array>): Promise<UniversalServerResponse> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of body) chunks.push(chunk);
  const bytes = Buffer.concat(chunks);
  const compressed = response.header?.has("content-encoding") ?? false;
  const fault = compressed ? undefined : asClientFault(errorFromJsonBytes(bytes, undefined, new ConnectError("", Code.Unknown)));
  if (fault !== undefined) return errorResponse("connect", fault);
  return {
    ...response,
    body: (async function* () {
      yield bytes;
    })(),
  };
}

/** gRPC: connect sets the status in the trailer while the body ends, so look once the body is done. */
async function* grpcTrailer(body: AsyncIterable<Uint8Array>, trailer: Headers | undefined): AsyncIterable<Uint8Array> {
  yield* body;
  fixTrailer(trailer);
}

function fixTrailer(trailer: Headers | undefined): void {
  const fault = trailer && asClientFault(findTrailerError(trailer));
  if (fault !== undefined && trailer !== undefined) {
    trailer.delete("grpc-status-details-bin");
    setTrailerStatus(trailer, fault);
  }
}

/** gRPC-Web and Connect streaming: the status travels in a last frame of its own (one frame per chunk, uncompressed). */
async function* mapLastFrame(
  body: AsyncIterable<Uint8Array>,
  flag: number,
  rewrite: (data: Uint8Array) => Uint8Array | undefined,
): AsyncIterable<Uint8Array> {
  for await (const chunk of body) {
    const rewritten = chunk.byteLength >= 5 && chunk[0] === flag ? rewrite(chunk.subarray(5)) : undefined;
    yield rewritten === undefined ? chunk : encodeEnvelope(flag, rewritten);
  }
}

function grpcWebTrailer(data: Uint8Array): Uint8Array | undefined {
  const trailer = trailerParse(data);
  const fault = asClientFault(findTrailerError(trailer));
  if (fault === undefined) return undefined;
  trailer.delete("grpc-status-details-bin");
  setTrailerStatus(trailer, fault);
  return trailerSerialize(trailer);
}

function connectEndStream(data: Uint8Array): Uint8Array | undefined {
  const end = endStream.parse(data);
  const fault = asClientFault(end.error);
  return fault === undefined ? undefined : endStream.serialize({ metadata: end.metadata, error: fault });
}

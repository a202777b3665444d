// Error answers in each wire protocol the worker speaks, for calls it ends
// itself before connect-node handles them: refused before the body is read
// (no token), or unreadable as a call at all (no authority). Built from
// connect's own wire helpers so every client library reads them as it reads
// connect's answers: Connect unary (HTTP status + JSON), Connect streaming
// (end-stream message), gRPC (status in trailers), gRPC-Web (trailer frame).
import type { ConnectError } from "@connectrpc/connect";
import { encodeEnvelope, type UniversalServerResponse } from "@connectrpc/connect/protocol";
import { codeToHttpStatus, createEndStreamSerialization, endStreamFlag, errorToJsonBytes } from "@connectrpc/connect/protocol-connect";
import { setTrailerStatus } from "@connectrpc/connect/protocol-grpc";
import { trailerFlag, trailerSerialize } from "@connectrpc/connect/protocol-grpc-web";

export type WireProtocol = "grpc" | "grpc-web" | "connect-stream" | "connect";

/** Which protocol a request speaks, by its content type (anything unknown is answered as Connect unary: plain HTTP + JSON). */
export function wireProtocolOf(contentType: string | undefined): WireProtocol {
  const type = (contentType ?? "").toLowerCase();
  if (type.startsWith("application/grpc-web")) return "grpc-web";
  if (type.startsWith("application/grpc")) return "grpc";
  if (type.startsWith("application/connect+")) return "connect-stream";
  return "connect";
}

const endStream = createEndStreamSerialization(undefined);

/** The whole answer for `error` in `protocol`, ready for connect-node's universalResponseToNodeResponse. */
export function errorResponse(protocol: WireProtocol, error: ConnectError): UniversalServerResponse {
  const body = (bytes: Uint8Array) =>
    (async function* () {
      yield bytes;
    })();
  const status = () => {
    const trailer = new Headers();
    setTrailerStatus(trailer, error);
    return trailer;
  };
  switch (protocol) {
    case "grpc":
      return { status: 200, header: new Headers({ "content-type": "application/grpc+proto" }), trailer: status() };
    case "grpc-web":
      return {
        status: 200,
        header: new Headers({ "content-type": "application/grpc-web+proto" }),
        body: body(encodeEnvelope(trailerFlag, trailerSerialize(status()))),
      };
    case "connect-stream":
      return {
        status: 200,
        header: new Headers({ "content-type": "application/connect+json" }),
        body: body(encodeEnvelope(endStreamFlag, endStream.serialize({ metadata: new Headers(), error }))),
      };
    case "connect": {
      const json = errorToJsonBytes(error, undefined);
      return {
        status: codeToHttpStatus(error.code),
        header: new Headers({ "content-type": "application/json", "content-length": String(json.byteLength) }),
        body: body(json),
      };
    }
  }
}

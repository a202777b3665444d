// Pins which of connect's `internal` errors the worker re-files as the
// caller's invalid_argument, in every wire format an answer can take, and
// that real internal errors pass through untouched.
import { Code, ConnectError } from "@connectrpc/connect";
import type { UniversalServerResponse } from "@connectrpc/connect/protocol";
import { codeFromString, createEndStreamSerialization, errorFromJsonBytes } from "@connectrpc/connect/protocol-connect";
import { findTrailerError } from "@connectrpc/connect/protocol-grpc";
import { trailerParse } from "@connectrpc/connect/protocol-grpc-web";
import { describe, expect, it } from "vitest";
import { asClientFault, reclassifyClientFaults } from "../../../gpu-worker/http/client-faults.js";
import { errorResponse, wireProtocolOf, type WireProtocol } from "../../../gpu-worker/http/error-answer.js";

const misfiled = [
  "parse binary: premature EOF",
  "received compressed envelope, but do not know how to decompress",
  "decompression failed",
];

describe("asClientFault", () => {
  it.each(misfiled)("re-files internal %j as invalid_argument, keeping the message", (message) => {
    const fault = asClientFault(new ConnectError(message, Code.Internal));
    expect(fault?.code).toBe(Code.InvalidArgument);
    expect(fault?.rawMessage).toContain(message);
  });

  it("leaves real internal errors, other codes and no error alone", () => {
    expect(asClientFault(new ConnectError("internal error", Code.Internal))).toBeUndefined();
    expect(asClientFault(new ConnectError("serialize binary: oops", Code.Internal))).toBeUndefined();
    expect(asClientFault(new ConnectError("parse binary: premature EOF", Code.Unknown))).toBeUndefined();
    expect(asClientFault(undefined)).toBeUndefined();
  });
});

/** Reads the status out of an answer the way a client of that protocol would. */
async function statusIn(protocol: WireProtocol, response: UniversalServerResponse): Promise<{ http: number; code: Code; message: string }> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of response.body ?? []) chunks.push(chunk);
  const body = Buffer.concat(chunks);
  const fallback = new ConnectError("no status", Code.Unknown);
  let error: ConnectError | undefined;
  switch (protocol) {
    case "connect":
      error = response.status === 200 ? undefined : errorFromJsonBytes(body, undefined, fallback);
      break;
    case "grpc":
      error = findTrailerError(response.trailer!);
      break;
    case "grpc-web":
      expect(body[0]).toBe(0x80);
      error = findTrailerError(trailerParse(body.subarray(5)));
      break;
    case "connect-stream": {
      expect(body[0]).toBe(0x02);
      error = createEndStreamSerialization(undefined).parse(body.subarray(5)).error;
      break;
    }
  }
  return { http: response.status, code: error?.code ?? (0 as Code), message: error?.rawMessage ?? "" };
}

const protocols: WireProtocol[] = ["connect", "connect-stream", "grpc", "grpc-web"];

describe("reclassifyClientFaults", () => {
  it.each(protocols)("%s: a misfiled parse error becomes invalid_argument (HTTP 400 for Connect unary)", async (protocol) => {
    const answer = errorResponse(protocol, new ConnectError("parse binary: premature EOF", Code.Internal));
    const status = await statusIn(protocol, await reclassifyClientFaults(protocol, answer));
    expect(status.code).toBe(Code.InvalidArgument);
    expect(status.message).toMatch(/not a valid message: parse binary: premature EOF/);
    if (protocol === "connect") expect(status.http).toBe(400);
  });

  it.each(protocols)("%s: a real internal error stays internal", async (protocol) => {
    const answer = errorResponse(protocol, new ConnectError("internal error", Code.Internal));
    const status = await statusIn(protocol, await reclassifyClientFaults(protocol, answer));
    expect(status.code).toBe(Code.Internal);
    if (protocol === "connect") expect(status.http).toBe(500);
  });
});

describe("error answers", () => {
  it.each([
    ["application/grpc-web+proto", "grpc-web"],
    ["application/grpc+proto", "grpc"],
    ["application/grpc", "grpc"],
    ["application/connect+json", "connect-stream"],
    ["application/proto", "connect"],
    ["text/plain", "connect"],
    [undefined, "connect"],
  ])("content type %s is answered as %s", (contentType, protocol) => {
    expect(wireProtocolOf(contentType)).toBe(protocol);
  });

  it.each(protocols)("%s: unauthenticated reads back as unauthenticated (HTTP 401 for Connect unary)", async (protocol) => {
    const status = await statusIn(protocol, errorResponse(protocol, new ConnectError("missing or invalid worker token", Code.Unauthenticated)));
    expect(status.code).toBe(codeFromString("unauthenticated"));
    expect(status.message).toBe("missing or invalid worker token");
    if (protocol === "connect") expect(status.http).toBe(401);
  });
});

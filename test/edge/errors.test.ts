import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../edge/config.js";
import { GatewayError, isUnexpected, toConnectError, toGatewayError, toRestResponse } from "../../edge/errors.js";

describe("GatewayError mapping", () => {
  it.each([
    [Code.InvalidArgument, 400], [Code.NotFound, 404], [Code.ResourceExhausted, 429], [Code.Unavailable, 503],
    [Code.DeadlineExceeded, 504], [Code.Unauthenticated, 401], [Code.PermissionDenied, 403], [Code.Unimplemented, 501],
    [Code.Internal, 500], [Code.Canceled, 499],
  ])("REST: code %i -> HTTP %i with {error}", async (code, status) => {
    const res = toRestResponse(new GatewayError(code, "msg"));
    expect(res.status).toBe(status);
    expect(res.headers.get("content-type")).toBe("application/json");
    expect(await res.json()).toEqual({ error: "msg" });
  });

  it("REST: an explicit status override (413) and extra headers win", async () => {
    const res = toRestResponse(new GatewayError(Code.ResourceExhausted, "too big", { httpStatus: 413, headers: { "retry-after": "3" } }));
    expect(res.status).toBe(413);
    expect(res.headers.get("retry-after")).toBe("3");
  });

  it("Connect: keeps code and message, headers become metadata", () => {
    const error = toConnectError(new GatewayError(Code.NotFound, "no model", { headers: { "retry-after": "1" } }));
    expect(error).toBeInstanceOf(ConnectError);
    expect(error.code).toBe(Code.NotFound);
    expect(error.rawMessage).toBe("no model");
    expect(error.metadata.get("retry-after")).toBe("1");
  });

  it("upstream ConnectErrors keep their code and message", () => {
    const error = toGatewayError(new ConnectError("queue full", Code.ResourceExhausted));
    expect([error.code, error.message, error.httpStatus]).toEqual([Code.ResourceExhausted, "queue full", 429]);
    expect(isUnexpected(new ConnectError("x", Code.Unknown))).toBe(false);
  });

  it("a ConfigError says the edge is misconfigured", () => {
    const error = toGatewayError(new ConfigError("WORKER_URLS is required"));
    expect([error.code, error.message]).toEqual([Code.Internal, "edge misconfigured: WORKER_URLS is required"]);
  });

  it("unknown exceptions become a generic internal error (details stay in logs)", () => {
    const cause = new RangeError("secret detail");
    const error = toGatewayError(cause);
    expect([error.code, error.message, error.httpStatus]).toEqual([Code.Internal, "internal error", 500]);
    expect(error.cause).toBe(cause);
    expect(isUnexpected(cause)).toBe(true);
  });
});

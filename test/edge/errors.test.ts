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

describe("retry hints and upstream refusals (issue 9, item 8)", () => {
  it("REST: a full worker queue (429) and no worker (503) carry Retry-After", () => {
    expect(toRestResponse(new GatewayError(Code.ResourceExhausted, "queue full")).headers.get("retry-after")).toBe("1");
    expect(toRestResponse(new GatewayError(Code.Unavailable, "no GPU worker answered")).headers.get("retry-after")).toBe("1");
  });

  it("Connect: the same hint rides along as metadata (response headers / trailers)", () => {
    expect(toConnectError(new GatewayError(Code.ResourceExhausted, "queue full")).metadata.get("retry-after")).toBe("1");
    expect(toConnectError(new GatewayError(Code.Unavailable, "no worker")).metadata.get("retry-after")).toBe("1");
  });

  it("keeps a hint the error already has, and adds none where retrying cannot help", () => {
    expect(toRestResponse(new GatewayError(Code.ResourceExhausted, "slow down", { headers: { "retry-after": "7" } })).headers.get("retry-after")).toBe("7");
    expect(toRestResponse(new GatewayError(Code.ResourceExhausted, "too big", { httpStatus: 413 })).headers.get("retry-after")).toBeNull();
    expect(toRestResponse(new GatewayError(Code.InvalidArgument, "bad")).headers.get("retry-after")).toBeNull();
    expect(toConnectError(new GatewayError(Code.NotFound, "no model")).metadata.get("retry-after")).toBeNull();
  });

  it("a worker's own Retry-After hint is kept", () => {
    const error = toGatewayError(new ConnectError("queue full", Code.ResourceExhausted, { "retry-after": "3" }));
    expect(error.headers["retry-after"]).toBe("3");
  });

  it("a worker's read-size refusal becomes invalid_argument (400) naming no internal variable", () => {
    const error = toGatewayError(new ConnectError("message size 1120037 is larger than configured readMaxBytes 589824", Code.ResourceExhausted));
    expect([error.code, error.httpStatus]).toEqual([Code.InvalidArgument, 400]);
    expect(error.message).not.toMatch(/readMaxBytes|589824/);
    expect(error.message).toMatch(/larger than the model accepts/);
    expect(error.message).toMatch(/max_batch_size/);
  });
});

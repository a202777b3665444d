import { create } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { encodeRaw } from "../../../common/oip/index.js";
import { ModelInferRequestSchema } from "../../../gen/inference/grpc_service_pb.js";
import { GatewayError } from "../../../edge/errors.js";
import { createRequestContext, detachedScope } from "../../../edge/pipeline/context.js";
import { validateInferRequest } from "../../../edge/pipeline/validate.js";

const request = (init: object) => create(ModelInferRequestSchema, { modelName: "m", ...init });
const check = (init: object, max = 100) => {
  try { validateInferRequest(request(init), max); } catch (e) { return e as GatewayError; }
  return undefined;
};

describe("validateInferRequest (every protocol)", () => {
  it("accepts raw contents, typed contents and BYTES with matching sizes", () => {
    expect(check({ inputs: [{ name: "a", datatype: "FP32", shape: [2n] }], rawInputContents: [new Uint8Array(8)] })).toBeUndefined();
    expect(check({ inputs: [{ name: "a", datatype: "INT32", shape: [2n], contents: { intContents: [1, 2] } }] })).toBeUndefined();
    expect(check({ inputs: [{ name: "s", datatype: "BYTES", shape: [1n] }], rawInputContents: [encodeRaw([new Uint8Array(3)])] })).toBeUndefined();
  });

  it.each<[string, object, RegExp]>([
    ["no model name", { modelName: "" }, /model_name is required/],
    ["no inputs", { inputs: [] }, /no inputs/],
    ["unknown datatype", { inputs: [{ name: "a", datatype: "F32", shape: [1n] }], rawInputContents: [new Uint8Array(4)] }, /input "a": unknown datatype "F32"/],
    ["negative dim", { inputs: [{ name: "a", datatype: "FP32", shape: [-1n] }], rawInputContents: [new Uint8Array(4)] }, /input "a": shape \[-1\]: dimension -1/],
    ["raw size mismatch", { inputs: [{ name: "a", datatype: "FP32", shape: [2n] }], rawInputContents: [new Uint8Array(4)] }, /input "a": raw contents hold 4 bytes but FP32 shape \[2\] needs 8/],
    ["raw count mismatch", { inputs: [{ name: "a", datatype: "FP32", shape: [1n] }, { name: "b", datatype: "FP32", shape: [1n] }], rawInputContents: [new Uint8Array(4)] }, /raw_input_contents has 1 entries but there are 2 inputs/],
    ["typed count mismatch", { inputs: [{ name: "a", datatype: "INT32", shape: [3n], contents: { intContents: [1] } }] }, /input "a": contents hold 1 elements but shape \[3\] needs 3/],
    ["FP16 typed", { inputs: [{ name: "h", datatype: "FP16", shape: [1n] }] }, /FP16 tensors must be sent as raw_input_contents/],
    ["duplicate input", { inputs: [{ name: "a", datatype: "FP32", shape: [1n] }, { name: "a", datatype: "FP32", shape: [1n] }], rawInputContents: [new Uint8Array(4), new Uint8Array(4)] }, /input "a" appears twice/],
    ["bad BYTES", { inputs: [{ name: "s", datatype: "BYTES", shape: [2n] }], rawInputContents: [encodeRaw([new Uint8Array(1)])] }, /input "s": BYTES raw contents hold 1 elements but shape needs 2/],
    ["duplicate output", { inputs: [{ name: "a", datatype: "FP32", shape: [1n] }], rawInputContents: [new Uint8Array(4)], outputs: [{ name: "y" }, { name: "y" }] }, /output "y" is requested twice/],
  ])("rejects %s with invalid_argument", (_name, init, message) => {
    const error = check(init);
    expect(error).toBeInstanceOf(GatewayError);
    expect(error!.code).toBe(Code.InvalidArgument);
    expect(error!.message).toMatch(message);
  });

  it("limits tensor elements summed over inputs: resource_exhausted with HTTP 413", () => {
    const init = { inputs: [{ name: "a", datatype: "UINT8", shape: [60n] }, { name: "b", datatype: "UINT8", shape: [60n] }], rawInputContents: [new Uint8Array(60), new Uint8Array(60)] };
    expect(check(init, 120)).toBeUndefined();
    const error = check(init, 100)!;
    expect([error.code, error.httpStatus]).toEqual([Code.ResourceExhausted, 413]);
    expect(error.message).toMatch(/more than 100 elements in total \(MAX_TENSOR_ELEMENTS\)/);
    // Overflowing shapes fail the same way instead of wrapping around.
    expect(check({ inputs: [{ name: "a", datatype: "UINT8", shape: [2n ** 40n, 2n ** 40n] }], rawInputContents: [new Uint8Array(0)] })!.code).toBe(Code.ResourceExhausted);
  });
});

describe("request context", () => {
  const scope = detachedScope("r");

  it("uses the smaller of the client timeout and REQUEST_TIMEOUT_MS", () => {
    const now = () => 1000;
    expect(createRequestContext({ scope, maxTimeoutMs: 500, clientTimeoutMs: 200, now }).deadline).toBe(1200);
    expect(createRequestContext({ scope, maxTimeoutMs: 500, clientTimeoutMs: 9000, now }).deadline).toBe(1500);
    expect(createRequestContext({ scope, maxTimeoutMs: 500, now }).deadline).toBe(1500);
  });

  it("aborts with deadline_exceeded when the deadline passes", async () => {
    const ctx = createRequestContext({ scope, maxTimeoutMs: 20 });
    await new Promise((r) => setTimeout(r, 40));
    expect(ctx.signal.aborted).toBe(true);
    expect(ctx.signal.reason.code).toBe(Code.DeadlineExceeded);
  });

  it("aborts with canceled when the client goes away, and dispose clears the timer", () => {
    const client = new AbortController();
    const ctx = createRequestContext({ scope, maxTimeoutMs: 10_000, clientSignal: client.signal });
    client.abort();
    expect(ctx.signal.reason.code).toBe(Code.Canceled);
    ctx.dispose();
  });
});

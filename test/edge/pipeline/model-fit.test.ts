import { create } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { ModelInferRequestSchema } from "../../../gen/inference/grpc_service_pb.js";
import type { ModelInfo } from "../../../edge/catalogue/types.js";
import { GatewayError } from "../../../edge/errors.js";
import { checkFitsModel } from "../../../edge/pipeline/model-fit.js";

const IRIS: ModelInfo = {
  name: "iris", version: "1", maxBatchSize: 64, deterministic: true, costWeight: 1, cacheTtlS: undefined, cachePublic: true,
  inputs: [{ name: "input", datatype: "FP32", shape: [-1, 4] }],
};
const NOBATCH: ModelInfo = { ...IRIS, name: "nobatch", maxBatchSize: 0, inputs: [{ name: "x", datatype: "FP32", shape: [2, 3] }] };
const VARIABLE: ModelInfo = { ...IRIS, name: "text", maxBatchSize: 8, inputs: [{ name: "s", datatype: "BYTES", shape: [-1, -1] }] };

const request = (...shapes: number[][]) =>
  create(ModelInferRequestSchema, { modelName: "m", inputs: shapes.map((shape, i) => ({ name: `in${i}`, datatype: "FP32", shape: shape.map(BigInt) })) });
const refusal = (model: ModelInfo, ...shapes: number[][]) => {
  try {
    checkFitsModel(request(...shapes), model);
  } catch (error) {
    expect(error).toBeInstanceOf(GatewayError);
    expect((error as GatewayError).code).toBe(Code.InvalidArgument);
    return (error as GatewayError).message;
  }
  return undefined;
};

describe("checkFitsModel: a request larger than its model could take never reaches a worker", () => {
  it("batch rows: at and under max_batch_size pass, one over is refused naming the public limit", () => {
    expect(refusal(IRIS, [64, 4])).toBeUndefined();
    expect(refusal(IRIS, [63, 4])).toBeUndefined();
    expect(refusal(IRIS, [65, 4])).toBe(`input "in0": batch size 65 is over model "iris"'s max_batch_size of 64; split it into requests of at most 64 rows`);
    // The request that used to reach the worker and come back as a 429 naming readMaxBytes.
    expect(refusal(IRIS, [70_000, 4])).toMatch(/max_batch_size of 64/);
  });

  it("elements: at most max_batch_size rows' worth of the declared fixed dims, summed over inputs", () => {
    expect(refusal(IRIS, [1, 256])).toBeUndefined();
    expect(refusal(IRIS, [1, 255])).toBeUndefined();
    expect(refusal(IRIS, [1, 257])).toBe(
      `the request's tensors hold 257 elements but model "iris" takes at most 256: 64 rows (max_batch_size) of 4 elements; see the model's metadata for its input shapes`,
    );
    expect(refusal(IRIS, [64, 5000])).toMatch(/hold 320000 elements but model "iris" takes at most 256/);
    expect(refusal(IRIS, [1, 200], [1, 57])).toMatch(/hold 257 elements/);
    expect(refusal(NOBATCH, [2, 3])).toBeUndefined();
    expect(refusal(NOBATCH, [7])).toMatch(/hold 7 elements but model "nobatch" takes at most 6: its declared shapes/);
  });

  it("names, datatypes and exact dims are left to the worker (its messages say the same)", () => {
    expect(refusal(IRIS, [2, 2])).toBeUndefined();
  });

  it("variable dimensions bound rows only; unknown inputs bound nothing", () => {
    expect(refusal(VARIABLE, [8, 1_000_000])).toBeUndefined();
    expect(refusal(VARIABLE, [9, 1])).toMatch(/max_batch_size of 8/);
    expect(refusal({ ...IRIS, inputs: undefined }, [64, 1_000_000])).toBeUndefined();
  });
});

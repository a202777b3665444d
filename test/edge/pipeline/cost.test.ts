import { create } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { ModelInferRequestSchema } from "../../../gen/inference/grpc_service_pb.js";
import type { ModelInfo } from "../../../edge/catalogue/types.js";
import { costOf } from "../../../edge/pipeline/index.js";

const model = (over: Partial<ModelInfo>): ModelInfo => ({
  name: "m", version: "1", maxBatchSize: 64, deterministic: false, costWeight: 1, cacheTtlS: undefined, cachePublic: false, ...over,
});
const request = (...shapes: number[][]) =>
  create(ModelInferRequestSchema, {
    modelName: "m",
    inputs: shapes.map((shape, i) => ({ name: `in${i}`, datatype: "BYTES", shape: shape.map(BigInt) })),
  });

describe("costOf: rate-limit units follow what the call really sends", () => {
  it("fixed shapes: batch rows × cost_weight, as before", () => {
    const iris = model({ costWeight: 3, inputs: [{ name: "in0", datatype: "BYTES", shape: [-1, 4] }] });
    expect(costOf(request([1, 4]), iris)).toBe(3);
    expect(costOf(request([64, 4]), iris)).toBe(192);
  });

  it("variable dims: a [1, 3000000] tensor costs its elements over the declared elements per row, not one row", () => {
    const text = model({ inputs: [{ name: "in0", datatype: "BYTES", shape: [-1, -1] }] });
    expect(costOf(request([1, 3_000_000]), text)).toBe(3_000_000);
    expect(costOf(request([2, 1]), text)).toBe(2);
    // Per row the model declares [-1, 8] = 8 elements: 1 row of 80 is 10 rows' worth.
    const wide = model({ costWeight: 2, inputs: [{ name: "in0", datatype: "BYTES", shape: [-1, -1, 8] }] });
    expect(costOf(request([1, 10, 8]), wide)).toBe(20);
    expect(costOf(request([1, 1, 8]), wide)).toBe(2);
  });

  it("sums over inputs against the sum the model declares per row", () => {
    const two = model({ inputs: [{ name: "in0", datatype: "BYTES", shape: [-1, -1] }, { name: "in1", datatype: "BYTES", shape: [-1, -1] }] });
    expect(costOf(request([1, 1], [1, 1]), two)).toBe(1);
    expect(costOf(request([1, 5], [1, 7]), two)).toBe(6);
  });

  it("models without a batch dimension: one call, unless it sends more than the declared shape", () => {
    const fixed = model({ maxBatchSize: 0, inputs: [{ name: "in0", datatype: "BYTES", shape: [2, -1] }] });
    expect(costOf(request([2, 1]), fixed)).toBe(1);
    expect(costOf(request([2, 50]), fixed)).toBe(50);
  });

  it("without the model's inputs: batch rows (at least one)", () => {
    expect(costOf(request([5, 1000]), model({}))).toBe(5);
    expect(costOf(request([5, 1000]), model({ maxBatchSize: 0 }))).toBe(1);
  });

  it("a request the model cannot take is refused before it is charged", () => {
    const iris = model({ inputs: [{ name: "in0", datatype: "BYTES", shape: [-1, 4] }] });
    expect(() => costOf(request([65, 4]), iris)).toThrow(expect.objectContaining({ code: Code.InvalidArgument }));
  });
});

// The browser client's tensor helpers, in Node: plain arrays become OIP
// tensors (raw bytes by default, typed contents on request) and read back
// unchanged, for the datatypes a browser user is likely to send.
import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { describeError, inferRequest, outputsOf, ConnectError, Code } from "../../client/index.js";
import { ModelInferResponseSchema } from "../../gen/inference/grpc_service_pb.js";

/** A response that echoes the request's tensors back as outputs. */
function echo(request: ReturnType<typeof inferRequest>) {
  return create(ModelInferResponseSchema, {
    modelName: request.modelName,
    outputs: request.inputs.map((i) => ({ name: i.name, datatype: i.datatype, shape: i.shape, ...(i.contents ? { contents: i.contents } : {}) })),
    rawOutputContents: request.rawInputContents,
  });
}

describe("client tensor helpers", () => {
  const tensors = [
    { name: "f", datatype: "FP32" as const, shape: [2, 2], data: [[1.5, -2], [0.25, 3]] },
    { name: "i", datatype: "INT64" as const, shape: [3], data: [1, -2, 9007199254740993n] },
    { name: "b", datatype: "BOOL" as const, shape: [2], data: [true, false] },
    { name: "s", datatype: "BYTES" as const, shape: [2], data: ["héllo", ""] },
  ];

  it("sends raw_input_contents by default and reads them back", () => {
    const request = inferRequest("m", tensors);
    expect(request.rawInputContents).toHaveLength(4);
    expect(request.inputs[0]!.shape).toEqual([2n, 2n]);
    expect(request.rawInputContents[0]!.byteLength).toBe(16);
    expect(outputsOf(echo(request)).map((o) => o.data)).toEqual([[1.5, -2, 0.25, 3], [1, -2, 9007199254740993n], [true, false], ["héllo", ""]]);
  });

  it("can send typed contents instead", () => {
    const request = inferRequest("m", tensors, { raw: false, version: "1", outputs: ["f"] });
    expect(request.rawInputContents).toHaveLength(0);
    expect(request.modelVersion).toBe("1");
    expect(request.outputs.map((o) => o.name)).toEqual(["f"]);
    expect(outputsOf(echo(request))[0]!.data).toEqual([1.5, -2, 0.25, 3]);
  });

  it("refuses data that does not fill the shape, naming the tensor", () => {
    expect(() => inferRequest("m", [{ name: "x", datatype: "FP32", shape: [1, 4], data: [1, 2, 3] }])).toThrow(/x: shape \[1, 4\] needs 4 values, got 3/);
  });

  it("describes errors with their wire code", () => {
    expect(describeError(new ConnectError("model \"x\" not found", Code.NotFound))).toEqual({ code: "not_found", message: 'model "x" not found' });
    expect(describeError(new ConnectError("slow down", Code.ResourceExhausted)).code).toBe("resource_exhausted");
  });
});

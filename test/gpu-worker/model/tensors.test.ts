import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Code, ConnectError } from "@connectrpc/connect";
import type ort from "onnxruntime-node";
import { beforeAll, describe, expect, it } from "vitest";
import { DATATYPE_INFO, type Datatype, type TensorValues } from "../../../common/oip/index.js";
import { parseModelConfig } from "../../../gpu-worker/model/config.js";
import { createSession } from "../../../gpu-worker/model/session.js";
import { fromOrtTensor, toOrtTensor, type Tensor } from "../../../gpu-worker/model/tensors.js";
import { datatypeSamples } from "../../support/datatype-samples.js";

const ECHO = join(import.meta.dirname, "../../fixtures/models/echo");

const utf8 = (s: string) => new TextEncoder().encode(s);

const SAMPLES = datatypeSamples();

describe("tensor conversion through onnxruntime (echo fixture: Identity per datatype)", () => {
  let results: ort.InferenceSession.OnnxValueMapType;

  beforeAll(async () => {
    const config = parseModelConfig(JSON.parse(readFileSync(join(ECHO, "config.json"), "utf8")), "echo/config.json", "echo");
    const { session } = await createSession("echo", join(ECHO, "1/model.onnx"), config, ["cpu"]);
    const feeds = Object.fromEntries(
      Object.entries(SAMPLES).map(([datatype, values]) => {
        const name = datatype.toLowerCase();
        return [name, toOrtTensor({ name, datatype: datatype as Datatype, shape: [2, 3], values })];
      }),
    );
    results = await session.run(feeds);
    await session.release();
  });

  it.each(Object.entries(SAMPLES) as [Exclude<Datatype, "BF16">, TensorValues][])(
    "%s round-trips OIP -> onnxruntime -> OIP unchanged",
    (datatype, values) => {
      const name = `${datatype.toLowerCase()}_out`;
      const output = fromOrtTensor(name, results[name] as ort.Tensor);
      expect(output.datatype).toBe(datatype);
      expect(output.shape).toEqual([2, 3]);
      if (DATATYPE_INFO[datatype].allocate === null) {
        expect(output.values).toEqual(values);
      } else {
        expect(output.values.constructor).toBe(values.constructor);
        expect(Array.from(output.values as ArrayLike<number | bigint>)).toEqual(Array.from(values as ArrayLike<number | bigint>));
      }
    },
  );
});

describe("tensor conversion errors", () => {
  it("refuses BF16 as unimplemented: onnxruntime-node has no bfloat16 tensors", () => {
    const tensor: Tensor = { name: "x", datatype: "BF16", shape: [1], values: new Uint16Array([0x3f80]) };
    expect(() => toOrtTensor(tensor)).toThrow(expect.objectContaining({ code: Code.Unimplemented }));
    expect(() => toOrtTensor(tensor)).toThrow(/input "x": BF16/);
  });

  it("refuses BYTES that are not UTF-8, naming the tensor and element", () => {
    const tensor: Tensor = { name: "text", datatype: "BYTES", shape: [2], values: [utf8("ok"), new Uint8Array([0xff, 0xfe])] };
    let caught: unknown;
    try {
      toOrtTensor(tensor);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConnectError);
    expect((caught as ConnectError).code).toBe(Code.InvalidArgument);
    expect((caught as ConnectError).rawMessage).toMatch(/input "text": element 1 is not valid UTF-8/);
  });

  it("refuses BYTES containing NUL, which onnxruntime-node would silently truncate", () => {
    const tensor: Tensor = { name: "text", datatype: "BYTES", shape: [1], values: [utf8("a\u0000b")] };
    expect(() => toOrtTensor(tensor)).toThrow(/input "text": element 0 contains a NUL byte/);
  });
});

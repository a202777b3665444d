import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Code, ConnectError } from "@connectrpc/connect";
import type ort from "onnxruntime-node";
import { beforeAll, describe, expect, it } from "vitest";
import { DATATYPE_INFO, type Datatype, type TensorValues } from "../../../common/oip/index.js";
import { parseModelConfig } from "../../../gpu-worker/model/config.js";
import { createSession } from "../../../gpu-worker/model/session.js";
import { fromOrtTensor, toOrtTensor, type Tensor } from "../../../gpu-worker/model/tensors.js";

const ECHO = join(import.meta.dirname, "../../fixtures/models/echo");

const utf8 = (s: string) => new TextEncoder().encode(s);

/** Two rows of three elements per datatype, including each type's edge values. */
const SAMPLES: Record<Exclude<Datatype, "BF16">, TensorValues> = {
  BOOL: new Uint8Array([1, 0, 1, 0, 0, 1]),
  UINT8: new Uint8Array([0, 1, 255, 7, 8, 9]),
  UINT16: new Uint16Array([0, 1, 65535, 7, 8, 9]),
  UINT32: new Uint32Array([0, 1, 4294967295, 7, 8, 9]),
  UINT64: new BigUint64Array([0n, 1n, 18446744073709551615n, 7n, 8n, 9n]),
  INT8: new Int8Array([-128, 0, 127, -1, 2, 3]),
  INT16: new Int16Array([-32768, 0, 32767, -1, 2, 3]),
  INT32: new Int32Array([-2147483648, 0, 2147483647, -1, 2, 3]),
  INT64: new BigInt64Array([-9223372036854775808n, 0n, 9223372036854775807n, -1n, 2n, 3n]),
  // 1.0, -2.0, +inf, 65504 (max), smallest subnormal, 0.5 as half-precision bit patterns.
  FP16: new Uint16Array([0x3c00, 0xc000, 0x7c00, 0x7bff, 0x0001, 0x3800]),
  FP32: new Float32Array([1.5, -0, 3.4028234663852886e38, Number.NEGATIVE_INFINITY, 1e-45, 0.1]),
  FP64: new Float64Array([Math.PI, -0, Number.MAX_VALUE, Number.MIN_VALUE, -1e300, 0.1]),
  BYTES: [utf8("hello"), utf8(""), utf8("grüße"), utf8("日本"), utf8("tab\there"), utf8("🙂")],
};

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

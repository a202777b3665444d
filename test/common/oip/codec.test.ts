// Pins down the shared tensor codec: exact round trips for every datatype,
// and an Error (never a throw) for every malformed payload.
import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import {
  DATATYPES,
  DATATYPE_INFO,
  bf16BitsToNumber,
  decodeContents,
  decodeRaw,
  elementCount,
  encodeRaw,
  fp16BitsToNumber,
  numberToBf16Bits,
  numberToFp16Bits,
} from "../../../common/oip/index.js";
import { InferTensorContentsSchema } from "../../../gen/inference/grpc_service_pb.js";

describe("raw contents", () => {
  it("round-trips every fixed-size datatype byte for byte", () => {
    for (const datatype of DATATYPES) {
      const { allocate, byteSize } = DATATYPE_INFO[datatype];
      if (!allocate) continue;
      const values = allocate(5);
      new Uint8Array(values.buffer).forEach((_, i, bytes) => (bytes[i] = (i * 37) & (datatype === "BOOL" ? 1 : 0xff)));
      const raw = encodeRaw(values);
      expect(raw.byteLength).toBe(5 * byteSize);
      const decoded = decodeRaw(datatype, raw, 5);
      expect(decoded).toEqual(values);
    }
  });

  it("decodes from an unaligned sub-array (as protobuf hands them out)", () => {
    const backing = new Uint8Array(13);
    backing.set(new Uint8Array(new Float32Array([1.5, -2, 3]).buffer), 1);
    expect(Array.from(decodeRaw("FP32", backing.subarray(1, 13), 3) as Float32Array)).toEqual([1.5, -2, 3]);
  });

  it("round-trips BYTES with length prefixes, including empty strings", () => {
    const items = ["a", "", "héllo"].map((s) => new TextEncoder().encode(s));
    const raw = encodeRaw(items);
    expect(raw.byteLength).toBe(3 * 4 + 1 + 0 + 6);
    expect(decodeRaw("BYTES", raw, 3)).toEqual(items);
  });

  it("returns an Error for a length that does not match the shape", () => {
    expect(decodeRaw("FP32", new Uint8Array(10), 3)).toBeInstanceOf(Error);
    expect((decodeRaw("INT64", new Uint8Array(16), 3) as Error).message).toMatch(/16 bytes.*24/);
  });

  it("returns an Error for truncated or overlong BYTES", () => {
    expect(decodeRaw("BYTES", new Uint8Array([5, 0, 0, 0, 1]), 1)).toBeInstanceOf(Error);
    expect(decodeRaw("BYTES", new Uint8Array([1, 0]), 1)).toBeInstanceOf(Error);
    expect(decodeRaw("BYTES", encodeRaw([new Uint8Array(1), new Uint8Array(1)]), 1)).toBeInstanceOf(Error);
  });

  it("rejects BOOL bytes other than 0 and 1", () => {
    expect(decodeRaw("BOOL", new Uint8Array([0, 2]), 2)).toBeInstanceOf(Error);
  });
});

describe("typed contents", () => {
  it("reads each datatype from its OIP contents field", () => {
    const contents = create(InferTensorContentsSchema, {
      intContents: [-5, 7],
      int64Contents: [-(2n ** 63n), 2n ** 63n - 1n],
      uint64Contents: [2n ** 64n - 1n, 0n],
      boolContents: [true, false],
      fp64Contents: [0.1, 2],
    });
    expect(Array.from(decodeContents("INT8", contents, 2) as Int8Array)).toEqual([-5, 7]);
    expect(Array.from(decodeContents("INT64", contents, 2) as BigInt64Array)).toEqual([-(2n ** 63n), 2n ** 63n - 1n]);
    expect(Array.from(decodeContents("UINT64", contents, 2) as BigUint64Array)).toEqual([2n ** 64n - 1n, 0n]);
    expect(Array.from(decodeContents("BOOL", contents, 2) as Uint8Array)).toEqual([1, 0]);
    expect(Array.from(decodeContents("FP64", contents, 2) as Float64Array)).toEqual([0.1, 2]);
  });

  it("rejects out-of-range integers and wrong counts with a message", () => {
    const contents = create(InferTensorContentsSchema, { intContents: [300] });
    expect((decodeContents("INT8", contents, 1) as Error).message).toMatch(/out of range for INT8/);
    expect((decodeContents("INT32", contents, 2) as Error).message).toMatch(/1 elements but shape needs 2/);
  });

  it("says FP16 and BF16 need raw contents", () => {
    expect((decodeContents("FP16", undefined, 1) as Error).message).toMatch(/raw/);
  });
});

describe("shapes and half precision", () => {
  it("counts elements and refuses negative, fractional or overflowing shapes", () => {
    expect(elementCount([2n, 3n])).toBe(6);
    expect(elementCount([])).toBe(1);
    expect(elementCount([-1, 4])).toBeInstanceOf(Error);
    expect(elementCount([1.5])).toBeInstanceOf(Error);
    expect(elementCount([1n << 40n, 1n << 40n], 1e9)).toBeInstanceOf(Error);
  });

  it("converts FP16 exactly for representable values and rounds to nearest even", () => {
    for (const value of [0, -0, 1, -2, 0.5, 65504, 2 ** -24, 0.333251953125]) {
      expect(fp16BitsToNumber(numberToFp16Bits(value))).toBe(value);
    }
    expect(numberToFp16Bits(70000)).toBe(0x7c00);
    expect(Number.isNaN(fp16BitsToNumber(numberToFp16Bits(Number.NaN)))).toBe(true);
    expect(fp16BitsToNumber(numberToFp16Bits(1 + 2 ** -11))).toBe(1);
  });

  it("converts BF16 with round to nearest even", () => {
    for (const value of [0, 1, -3.5, 256]) expect(bf16BitsToNumber(numberToBf16Bits(value))).toBe(value);
    expect(bf16BitsToNumber(numberToBf16Bits(1.00390625))).toBe(1);
  });
});

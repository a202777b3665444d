// Two rows of three elements per datatype (BF16 aside: onnxruntime-node has
// no BF16 tensors), including each type's edge values. A fresh set per call:
// a threaded session run detaches the buffers it is given.
import type { Datatype, TensorValues } from "../../common/oip/index.js";

const utf8 = (s: string) => new TextEncoder().encode(s);

export type SampledDatatype = Exclude<Datatype, "BF16">;

export function datatypeSamples(): Record<SampledDatatype, TensorValues> {
  return {
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
}

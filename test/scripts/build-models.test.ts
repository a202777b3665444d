// The model builder's outputs: the iris model really classifies iris, every
// config.json agrees with its ONNX graph, the echo fixture round-trips each
// datatype, the other fixtures behave as documented, and builds are
// byte-reproducible.
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as ort from "onnxruntime-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ORT_TYPE } from "../../gpu-worker/model/tensors.js";
import { buildModels, FIXTURES_DIR, MODELS_DIR, modelPaths } from "../../scripts/models/build.js";
import type { ModelConfig } from "../../scripts/models/config.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const MODELS: ReadonlyArray<readonly [string, string]> = [
  [MODELS_DIR, "iris"],
  [MODELS_DIR, "mlp-wide"],
  [FIXTURES_DIR, "echo"],
  [FIXTURES_DIR, "slow"],
  [FIXTURES_DIR, "nobatch"],
];


const sessions = new Map<string, ort.InferenceSession>();
const configs = new Map<string, ModelConfig>();

function session(name: string): ort.InferenceSession {
  const s = sessions.get(name);
  if (!s) throw new Error(`no session for ${name}`);
  return s;
}

beforeAll(async () => {
  // A no-op when the global setup (or an earlier run) already built them.
  buildModels({ root: ROOT });
  for (const [dir, name] of MODELS) {
    const paths = modelPaths(ROOT, dir, name);
    configs.set(name, JSON.parse(readFileSync(paths.config, "utf8")) as ModelConfig);
    sessions.set(name, await ort.InferenceSession.create(paths.onnx, { executionProviders: ["cpu"] }));
  }
});

afterAll(async () => {
  for (const s of sessions.values()) await s.release();
});

describe("iris", () => {
  const rows = [
    { x: [5.1, 3.5, 1.4, 0.2], label: 0 }, // setosa (row 1 of the data set)
    { x: [4.9, 3.0, 1.4, 0.2], label: 0 }, // setosa
    { x: [7.0, 3.2, 4.7, 1.4], label: 1 }, // versicolor (row 51)
    { x: [5.7, 2.8, 4.1, 1.3], label: 1 }, // versicolor
    { x: [6.3, 3.3, 6.0, 2.5], label: 2 }, // virginica (row 101)
    { x: [5.9, 3.0, 5.1, 1.8], label: 2 }, // virginica (row 150)
  ];

  it("predicts the species of known rows from raw measurements", async () => {
    const input = new ort.Tensor("float32", Float32Array.from(rows.flatMap((r) => r.x)), [rows.length, 4]);
    const out = await session("iris").run({ input });
    expect(out.label!.dims).toEqual([rows.length, 1]);
    expect(Array.from(out.label!.data as BigInt64Array, Number)).toEqual(rows.map((r) => r.label));
    const p = out.probabilities!.data as Float32Array;
    expect(out.probabilities!.dims).toEqual([rows.length, 3]);
    rows.forEach((r, i) => {
      const row = Array.from(p.subarray(i * 3, i * 3 + 3));
      expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
      expect(row.indexOf(Math.max(...row))).toBe(r.label);
    });
  });

  it("labels its classes in the data set's order", () => {
    expect(configs.get("iris")!.output[0]!.labels).toEqual(["setosa", "versicolor", "virginica"]);
  });
});

describe("config.json matches the ONNX graph", () => {
  it.each(MODELS.map(([, name]) => name))("%s", (name) => {
    const config = configs.get(name)!;
    const s = session(name);
    expect(config.name).toBe(name);
    expect(s.inputNames).toEqual(config.input.map((t) => t.name));
    expect(s.outputNames).toEqual(config.output.map((t) => t.name));
    const check = (meta: readonly ort.InferenceSession.ValueMetadata[], tensors: ModelConfig["input"]) => {
      tensors.forEach((t, i) => {
        const m = meta[i]!;
        if (!m.isTensor) throw new Error(`${name}/${t.name} is not a tensor`);
        expect(m.name).toBe(t.name);
        expect(m.type).toBe(ORT_TYPE[t.datatype]);
        // Triton rule: with batching the dims leave out a leading symbolic batch dim.
        const shape = config.max_batch_size > 0 ? m.shape.slice(1) : m.shape;
        if (config.max_batch_size > 0) expect(typeof m.shape[0]).toBe("string");
        expect(shape.map((d) => (typeof d === "number" ? d : -1))).toEqual(t.dims);
      });
    };
    check(s.inputMetadata, config.input);
    check(s.outputMetadata, config.output);
  });
});

describe("fixtures", () => {
  // Three values per datatype, including each type's extremes.
  const SAMPLES: Record<string, ort.Tensor.DataType> = {
    BOOL: Uint8Array.from([1, 0, 1]),
    UINT8: Uint8Array.from([0, 1, 255]),
    UINT16: Uint16Array.from([0, 1, 65535]),
    UINT32: Uint32Array.from([0, 1, 4294967295]),
    UINT64: BigUint64Array.from([0n, 1n, 18446744073709551615n]),
    INT8: Int8Array.from([-128, 0, 127]),
    INT16: Int16Array.from([-32768, 0, 32767]),
    INT32: Int32Array.from([-2147483648, 0, 2147483647]),
    INT64: BigInt64Array.from([-9223372036854775808n, 0n, 9223372036854775807n]),
    FP16: Uint16Array.from([0x3c00, 0xc000, 0x7bff]), // 1, -2, 65504 as raw half bits
    FP32: Float32Array.from([-1.5, 0, 3.4028234663852886e38]),
    FP64: Float64Array.from([-1e300, 0, Math.PI]),
    // onnxruntime-node passes strings as C strings: an embedded NUL truncates
    // the element (checked with 1.30), so BYTES samples here avoid "\u0000".
    BYTES: ["héllo 🌍", "", "\u0001bin\u007f"],
  };

  it("echo round-trips every datatype", async () => {
    const config = configs.get("echo")!;
    const feeds: Record<string, ort.Tensor> = {};
    for (const t of config.input) {
      const data = SAMPLES[t.datatype]!;
      feeds[t.name] = new ort.Tensor(ORT_TYPE[t.datatype]!, data as never, [1, 3]);
    }
    expect(Object.keys(feeds).sort()).toEqual(
      ["bool", "bytes", "fp16", "fp32", "fp64", "int16", "int32", "int64", "int8", "uint16", "uint32", "uint64", "uint8"],
    );
    const out = await session("echo").run(feeds);
    for (const t of config.input) {
      const o = out[`${t.name}_out`]!;
      expect(o.type).toBe(ORT_TYPE[t.datatype]);
      expect(o.dims).toEqual([1, 3]);
      expect(Array.from(o.data as ArrayLike<unknown>)).toEqual(Array.from(SAMPLES[t.datatype] as ArrayLike<unknown>));
    }
  });

  it("nobatch doubles a fixed [2, 2] tensor", async () => {
    const out = await session("nobatch").run({ x: new ort.Tensor("float32", Float32Array.from([1, -2, 3.5, 0]), [2, 2]) });
    expect(Array.from(out.y!.data as Float32Array)).toEqual([2, -4, 7, 0]);
    expect(configs.get("nobatch")!.dynamic_batching).toBeUndefined();
  });

  it("slow takes a noticeable time and returns its input", async () => {
    const x = Float32Array.from({ length: 16 }, (_, i) => i - 7.5);
    const t0 = performance.now();
    const out = await session("slow").run({ x: new ort.Tensor("float32", x, [2, 8]) });
    const ms = performance.now() - t0;
    expect(Array.from(out.y!.data as Float32Array)).toEqual(Array.from(x));
    expect(ms).toBeGreaterThan(50); // ~300 ms on the reference machine; loose bound for faster hosts
  });
});

describe("mlp-wide", () => {
  it("gives the same logits for a row alone and inside a batch", async () => {
    const width = configs.get("mlp-wide")!.input[0]!.dims[0]!;
    const rows = Float32Array.from({ length: 2 * width }, (_, i) => Math.sin(i * 0.37));
    const s = session("mlp-wide");
    const batch = (await s.run({ input: new ort.Tensor("float32", rows, [2, width]) })).logits!.data as Float32Array;
    const single = (await s.run({ input: new ort.Tensor("float32", rows.slice(width), [1, width]) })).logits!.data as Float32Array;
    expect(batch.length).toBe(20);
    expect(batch.every(Number.isFinite)).toBe(true);
    Array.from(single).forEach((v, i) => expect(batch[10 + i]).toBeCloseTo(v, 3));
  });
});

describe("reproducibility", () => {
  const sha = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex");

  it("two fresh builds are byte-identical to each other and to the repository", () => {
    const dirs = [mkdtempSync(join(tmpdir(), "models-a-")), mkdtempSync(join(tmpdir(), "models-b-"))];
    try {
      const [a, b] = dirs.map((root) => buildModels({ root, force: true }));
      const rel = (root: string, f: string) => f.slice(root.length);
      expect(a!.files.map((f) => rel(dirs[0]!, f))).toEqual(b!.files.map((f) => rel(dirs[1]!, f)));
      a!.files.forEach((f, i) => {
        const name = rel(dirs[0]!, f);
        expect(sha(f), name).toBe(sha(b!.files[i]!));
        expect(sha(f), name).toBe(sha(join(ROOT, name)));
      });
      expect(readFileSync(join(dirs[0]!, "models/.build-stamp"), "utf8")).toBe(readFileSync(join(dirs[1]!, "models/.build-stamp"), "utf8"));
    } finally {
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    }
  });
});

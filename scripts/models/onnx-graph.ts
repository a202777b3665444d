// Small helpers to write ONNX ModelProto files with the `onnx-proto` package
// (protobufjs static code for onnx.proto v1.10, IR version 8).
//
// Why our own helper: we only need a handful of ops, and building the
// protobuf objects by hand keeps every byte under our control, so the same
// inputs always encode to the same file (protobufjs writes fields in
// declaration order and we never put timestamps or random ids in a model).
import { createRequire } from "node:module";
import type * as OnnxProto from "onnx-proto";

// onnx-proto is CommonJS (`module.exports = { onnx }`), which Node's ESM
// loader cannot expose as a named export; load it through require instead.
const require = createRequire(import.meta.url);
export const { onnx } = require("onnx-proto") as typeof OnnxProto;
export type onnx = typeof onnx;

export const IR_VERSION = 8;
export const OPSET = 17;

/** ONNX element types we use, by the names used in our config.json files. */
export const ElemType = {
  FP32: 1,
  UINT8: 2,
  INT8: 3,
  UINT16: 4,
  INT16: 5,
  INT32: 6,
  INT64: 7,
  BYTES: 8, // ONNX "string"
  BOOL: 9,
  FP16: 10,
  FP64: 11,
  UINT32: 12,
  UINT64: 13,
} as const;
export type Datatype = keyof typeof ElemType;

/** A dimension: a fixed size, or a symbolic name such as "batch". */
export type Dim = number | string;

export function valueInfo(name: string, type: Datatype, dims: readonly Dim[]): OnnxProto.onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: ElemType[type],
        shape: { dim: dims.map((d) => (typeof d === "number" ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

/** A float32 initializer; raw_data is written little-endian explicitly so the bytes do not depend on the host. */
export function floatTensor(name: string, dims: readonly number[], values: ArrayLike<number>): OnnxProto.onnx.ITensorProto {
  const expected = dims.reduce((a, b) => a * b, 1);
  if (values.length !== expected) throw new Error(`tensor ${name}: ${values.length} values for dims [${dims.join(",")}]`);
  const raw = new Uint8Array(values.length * 4);
  const view = new DataView(raw.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i]!, true);
  return { name, dims: [...dims], dataType: ElemType.FP32, rawData: raw };
}

/** An int64 initializer (shapes, axes, trip counts). Values are small, so plain numbers are exact. */
export function int64Tensor(name: string, dims: readonly number[], values: readonly number[]): OnnxProto.onnx.ITensorProto {
  return { name, dims: [...dims], dataType: ElemType.INT64, int64Data: [...values] };
}

/** A bool initializer (e.g. a Loop's constant `cond`). */
export function boolTensor(name: string, dims: readonly number[], values: readonly boolean[]): OnnxProto.onnx.ITensorProto {
  return { name, dims: [...dims], dataType: ElemType.BOOL, int32Data: values.map((v) => (v ? 1 : 0)) };
}

type AttrValue = number | string | number[] | OnnxProto.onnx.IGraphProto;

/** Attribute values: integers become INT, other numbers FLOAT, strings STRING, number[] INTS, objects GRAPH. */
function attribute(name: string, value: AttrValue, forceFloat: boolean): OnnxProto.onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof value === "number") {
    return Number.isInteger(value) && !forceFloat ? { name, type: T.INT, i: value } : { name, type: T.FLOAT, f: value };
  }
  if (typeof value === "string") return { name, type: T.STRING, s: new TextEncoder().encode(value) };
  if (Array.isArray(value)) return { name, type: T.INTS, ints: value };
  return { name, type: T.GRAPH, g: value };
}

export interface NodeOptions {
  name?: string;
  attrs?: Record<string, AttrValue>;
  /** Attribute names that must be FLOAT even when the value is a whole number. */
  floatAttrs?: readonly string[];
}

export function node(opType: string, inputs: readonly string[], outputs: readonly string[], opts: NodeOptions = {}): OnnxProto.onnx.INodeProto {
  const attrs = opts.attrs ?? {};
  return {
    opType,
    input: [...inputs],
    output: [...outputs],
    name: opts.name ?? `${opType}_${outputs[0] ?? ""}`,
    // Sorted so that attribute order never depends on object construction order.
    attribute: Object.keys(attrs)
      .sort()
      .map((k) => attribute(k, attrs[k]!, opts.floatAttrs?.includes(k) ?? false)),
  };
}

export interface GraphSpec {
  name: string;
  nodes: OnnxProto.onnx.INodeProto[];
  inputs: OnnxProto.onnx.IValueInfoProto[];
  outputs: OnnxProto.onnx.IValueInfoProto[];
  initializers?: OnnxProto.onnx.ITensorProto[];
}

export function graph(spec: GraphSpec): OnnxProto.onnx.IGraphProto {
  return {
    name: spec.name,
    node: spec.nodes,
    input: spec.inputs,
    output: spec.outputs,
    initializer: spec.initializers ?? [],
  };
}

/** Encode a complete model. `docString` is a stable, human-readable note (never a timestamp). */
export function encodeModel(g: OnnxProto.onnx.IGraphProto, docString: string): Uint8Array {
  const model: OnnxProto.onnx.IModelProto = {
    irVersion: IR_VERSION,
    opsetImport: [{ domain: "", version: OPSET }],
    producerName: "edge-inference-gateway/scripts/build-models.ts",
    producerVersion: "1",
    docString,
    graph: g,
  };
  const err = onnx.ModelProto.verify(model);
  if (err) throw new Error(`invalid ModelProto: ${err}`);
  return onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
}

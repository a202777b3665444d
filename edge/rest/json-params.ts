// OIP `parameters` objects (string -> bool | number | string) <-> protobuf
// InferParameter maps. Parameters whose type the protocol defines (Triton's
// extensions to OIP: binary data, classification, sequences, scheduling,
// shared memory) are checked against that type, so a misspelt value such as
// `"binary_data_output": "yes"` is refused instead of silently ignored.
import { create } from "@bufbuild/protobuf";
import { InferParameterSchema, type InferParameter } from "../../gen/inference/grpc_service_pb.js";
import { invalidArgument } from "../errors.js";
import { quote } from "./json-limits.js";
import { jsonBigInt, jsonNumber } from "./json-write.js";

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

/** Whose parameters: the request's, an input tensor's or a requested output's. */
export type ParameterOwner = "request" | "input" | "output";

type Expected = "boolean" | "count" | "string" | "count or string";

const SHARED_MEMORY: Readonly<Record<string, Expected>> = {
  shared_memory_region: "string",
  shared_memory_byte_size: "count",
  shared_memory_offset: "count",
};

/** Parameters with a type fixed by the protocol (Triton's documented OIP extensions). */
const KNOWN: Readonly<Record<ParameterOwner, Readonly<Record<string, Expected>>>> = {
  request: {
    binary_data_output: "boolean",
    sequence_id: "count or string",
    sequence_start: "boolean",
    sequence_end: "boolean",
    priority: "count",
    timeout: "count",
  },
  input: { binary_data_size: "count", ...SHARED_MEMORY },
  output: { binary_data: "boolean", classification: "count", ...SHARED_MEMORY },
};

const DESCRIBED: Readonly<Record<Expected, string>> = {
  boolean: "a boolean (true or false)",
  count: "a non-negative integer",
  string: "a string",
  "count or string": "a non-negative integer or a string",
};

/** JSON parameters -> protobuf; `where` names the owner in error messages. */
export function parametersFromJson(value: unknown, where: string, owner: ParameterOwner = "input"): Record<string, InferParameter> {
  if (value === undefined || value === null) return {};
  if (typeof value !== "object" || Array.isArray(value)) {
    throw invalidArgument(`${where}: "parameters" must be an object of names to booleans, numbers or strings, not ${quote(value)}`);
  }
  const known = KNOWN[owner];
  const out: Record<string, InferParameter> = {};
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    const label = `${where}: parameter ${quote(key)}`;
    // JSON.parse makes "__proto__" an ordinary key, but assigning it to a map
    // object (here or in protobuf-es) sets the prototype: the value would vanish.
    if (key === "__proto__") throw invalidArgument(`${label} is not a usable parameter name`);
    const expected = Object.hasOwn(known, key) ? known[key]! : undefined;
    if (expected !== undefined && !hasType(v, expected)) throw invalidArgument(`${label} must be ${DESCRIBED[expected]}, not ${quote(v)}`);
    out[key] = parameterFromJson(v, label);
  }
  return out;
}

function hasType(v: unknown, expected: Expected): boolean {
  const count = (typeof v === "number" && Number.isSafeInteger(v) && v >= 0) || (typeof v === "bigint" && v >= 0n);
  switch (expected) {
    case "boolean":
      return typeof v === "boolean";
    case "count":
      return count;
    case "string":
      return typeof v === "string";
    case "count or string":
      return count || typeof v === "string";
  }
}

function parameterFromJson(v: unknown, where: string): InferParameter {
  switch (typeof v) {
    case "boolean":
      return create(InferParameterSchema, { parameterChoice: { case: "boolParam", value: v } });
    case "string":
      return create(InferParameterSchema, { parameterChoice: { case: "stringParam", value: v } });
    case "number":
      return Number.isSafeInteger(v)
        ? create(InferParameterSchema, { parameterChoice: { case: "int64Param", value: BigInt(v) } })
        : create(InferParameterSchema, { parameterChoice: { case: "doubleParam", value: v } });
    case "bigint":
      if (v >= INT64_MIN && v <= INT64_MAX) {
        return create(InferParameterSchema, { parameterChoice: { case: "int64Param", value: v } });
      }
      if (v > 0n && v <= UINT64_MAX) {
        return create(InferParameterSchema, { parameterChoice: { case: "uint64Param", value: v } });
      }
      throw invalidArgument(`${where} is outside the 64-bit integer range`);
    default:
      throw invalidArgument(`${where} must be a boolean, number or string, not ${quote(v)}`);
  }
}

/** Protobuf parameters -> JSON object text, or undefined when empty. 64-bit integers keep every digit. */
export function parametersToJson(params: Readonly<Record<string, InferParameter>>): string | undefined {
  const keys = Object.keys(params);
  if (keys.length === 0) return undefined;
  const parts = keys.map((key) => `${JSON.stringify(key)}:${parameterToJson(params[key]!)}`);
  return `{${parts.join(",")}}`;
}

function parameterToJson(param: InferParameter): string {
  const choice = param.parameterChoice;
  switch (choice.case) {
    case "boolParam":
      return choice.value ? "true" : "false";
    case "stringParam":
      return JSON.stringify(choice.value);
    case "doubleParam":
      return jsonNumber(choice.value);
    case "int64Param":
    case "uint64Param":
      return jsonBigInt(choice.value);
    default:
      return "null";
  }
}

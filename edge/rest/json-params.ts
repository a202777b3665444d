// OIP `parameters` objects (string -> bool | number | string) <-> protobuf
// InferParameter maps.
import { create } from "@bufbuild/protobuf";
import { InferParameterSchema, type InferParameter } from "../../gen/inference/grpc_service_pb.js";
import { invalidArgument } from "../errors.js";
import { jsonBigInt, jsonNumber } from "./json-write.js";

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

/** JSON parameters -> protobuf; `where` names the owner in error messages. */
export function parametersFromJson(value: unknown, where: string): Record<string, InferParameter> {
  if (value === undefined || value === null) return {};
  if (typeof value !== "object" || Array.isArray(value)) throw invalidArgument(`${where}: "parameters" must be an object`);
  const out: Record<string, InferParameter> = {};
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    out[key] = parameterFromJson(v, `${where}: parameter "${key}"`);
  }
  return out;
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
      throw invalidArgument(`${where} must be a boolean, number or string`);
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

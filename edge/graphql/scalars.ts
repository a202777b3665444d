// Custom scalars. TensorData and Parameters accept what OIP JSON accepts, so
// the REST converter (edge/rest/json-tensors.ts) can check them; literals in
// the document are turned into the same JSON values variables would carry.
import { GraphQLError, GraphQLScalarType, Kind, type ValueNode } from "graphql";
import { MAX_JSON_DEPTH, tooDeepMessage } from "../rest/json-limits.js";

const LONG_MAX = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * Literal -> JSON value; integer literals beyond ±2^53 keep every digit as a
 * bigint (INT64/UINT64 data). Nesting is bounded as for JSON bodies, so the
 * recursion stays shallow whatever the document's token limit allows.
 */
function literal(node: ValueNode, variables: Record<string, unknown> | null | undefined, depth = 0): unknown {
  if (depth > MAX_JSON_DEPTH) throw badInput(tooDeepMessage("a literal argument"));
  switch (node.kind) {
    case Kind.INT: {
      const n = Number(node.value);
      return Number.isSafeInteger(n) ? n : BigInt(node.value);
    }
    case Kind.FLOAT:
      return Number(node.value);
    case Kind.STRING:
    case Kind.ENUM:
      return node.value;
    case Kind.BOOLEAN:
      return node.value;
    case Kind.NULL:
      return null;
    case Kind.LIST:
      return node.values.map((v) => literal(v, variables, depth + 1));
    case Kind.OBJECT:
      return Object.fromEntries(node.fields.map((f) => [f.name.value, literal(f.value, variables, depth + 1)]));
    case Kind.VARIABLE:
      return variables?.[node.name.value];
  }
}

const badInput = (message: string) => new GraphQLError(message, { extensions: { code: "INVALID_ARGUMENT" } });

export const TensorData = new GraphQLScalarType({
  name: "TensorData",
  serialize: (value) => value,
  parseValue(value) {
    if (!Array.isArray(value)) throw badInput("TensorData must be an array (flat or nested, row-major)");
    return value;
  },
  parseLiteral(node, variables) {
    if (node.kind !== Kind.LIST) throw badInput("TensorData must be a list (flat or nested, row-major)");
    return literal(node, variables);
  },
});

export const Parameters = new GraphQLScalarType({
  name: "Parameters",
  serialize: (value) => value,
  parseValue(value) {
    if (value === null || typeof value !== "object" || Array.isArray(value)) throw badInput("Parameters must be an object");
    return value;
  },
  parseLiteral(node, variables) {
    if (node.kind !== Kind.OBJECT) throw badInput("Parameters must be an object");
    return literal(node, variables);
  },
});

export const Long = new GraphQLScalarType({
  name: "Long",
  serialize(value) {
    if (typeof value === "bigint") return value <= LONG_MAX && value >= -LONG_MAX ? Number(value) : value.toString();
    return value;
  },
  parseValue: (value) => value,
});

/** Parameters for output: plain JSON values (64-bit integers as numbers when safe, else strings). */
export function parametersToPlain(params: Readonly<Record<string, import("../../gen/inference/grpc_service_pb.js").InferParameter>>) {
  const keys = Object.keys(params);
  if (keys.length === 0) return null;
  const out: Record<string, unknown> = {};
  for (const key of keys) {
    const choice = params[key]!.parameterChoice;
    if (choice.case === "int64Param" || choice.case === "uint64Param") out[key] = Long.serialize(choice.value);
    else out[key] = choice.value ?? null;
  }
  return out;
}

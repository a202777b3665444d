// GatewayError -> GraphQL field error. The code is the Connect code in
// GraphQL's usual UPPER_SNAKE spelling (NOT_FOUND, INVALID_ARGUMENT, ...),
// except that a rate-limit denial reads RATE_LIMITED (ARCHITECTURE.md), so
// clients can tell it from a full worker queue (RESOURCE_EXHAUSTED).
import { Code } from "@connectrpc/connect";
import { GraphQLError } from "graphql";
import { isUnexpected, toGatewayError, type GatewayError } from "../errors.js";
import { describe, log } from "../log.js";
import type { RequestScope } from "../pipeline/context.js";
import type { YogaPlugin } from "./yoga.js";

/**
 * GraphQLError by name, not instanceof: under Node (unit tests) graphql can
 * load twice, as ESM and as CommonJS (graphql-armor requires it), and each
 * copy has its own class. The Worker bundle has one copy.
 */
export function isGraphQLError(error: unknown): error is GraphQLError {
  return error instanceof Error && error.name === "GraphQLError";
}

export function codeName(error: GatewayError): string {
  if (error.code === Code.ResourceExhausted && error.headers["retry-after"] !== undefined) return "RATE_LIMITED";
  return Code[error.code].replace(/([a-z])([A-Z])/g, "$1_$2").toUpperCase();
}

/**
 * Any failure as a GraphQLError with `extensions.code`. Internal failures
 * keep only a generic message (details go to the log). Headers the error
 * carries (Retry-After, WWW-Authenticate, RateLimit) are added to the HTTP
 * response, as REST and Connect do.
 */
export function toGraphQLError(error: unknown, scope: RequestScope): GraphQLError {
  if (isGraphQLError(error)) return error;
  const gateway = toGatewayError(error);
  if (isUnexpected(error)) log("error", "unexpected error", { requestId: scope.requestId, error: describe(error) });
  else if (gateway.code === Code.Internal) log("error", gateway.message, { requestId: scope.requestId });
  for (const [name, value] of Object.entries(gateway.headers)) scope.responseHeaders.set(name, value);
  const extensions: Record<string, unknown> = { code: codeName(gateway) };
  const retryAfter = gateway.headers["retry-after"];
  if (retryAfter !== undefined) extensions.retryAfterSeconds = Number(retryAfter);
  return new GraphQLError(gateway.exposed ? gateway.message : "internal error", { extensions });
}

type CodedResult = { errors?: readonly unknown[] };

function withCode(error: unknown, code: string): unknown {
  if (!isGraphQLError(error) || typeof error.extensions?.code === "string") return error;
  return new GraphQLError(error.message, {
    nodes: error.nodes ?? null,
    source: error.source ?? null,
    positions: error.positions ?? null,
    path: error.path ?? null,
    originalError: error.originalError ?? null,
    extensions: { ...error.extensions, code },
  });
}

/**
 * Gives the request errors graphql-js leaves uncoded a code, so every error
 * a client sees carries `extensions.code` as field errors do (names as
 * Apollo and yoga use them): a syntax error GRAPHQL_PARSE_FAILED, a variable
 * of the wrong type or left out BAD_USER_INPUT.
 */
export function useErrorCodes(): YogaPlugin {
  const plugin = {
    onParse() {
      return ({ result, replaceParseResult }: { result: unknown; replaceParseResult(result: unknown): void }) => {
        if (isGraphQLError(result) && result.extensions?.code === undefined) replaceParseResult(withCode(result, "GRAPHQL_PARSE_FAILED"));
      };
    },
    onExecute() {
      return {
        // Invalid variables end execution before any resolver: errors and no data.
        onExecuteDone({ result, setResult }: { result: CodedResult & { data?: unknown }; setResult(result: unknown): void }) {
          if (!Array.isArray(result?.errors) || result.data !== undefined) return;
          setResult({ ...result, errors: result.errors.map((error) => withCode(error, "BAD_USER_INPUT")) });
        },
      };
    },
  };
  // yoga.d.ts types only onParse/onValidate; onExecute is envelop's documented hook.
  return plugin as YogaPlugin;
}

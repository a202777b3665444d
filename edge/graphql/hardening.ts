// Production protections as envelop/yoga plugins: graphql-armor's depth,
// cost, alias, directive and token limits, introspection and field
// suggestions (off unless enabled), persisted operations, CSRF prevention.
// Limit rejections happen while parsing/validating, before any resolver.
import { GraphQLError, type ValidationContext } from "graphql";
import type { GraphqlConfig } from "./config.js";
import { isGraphQLError, useErrorCodes } from "./errors.js";
import { useJsonDepthLimit } from "./json-depth.js";
import {
  EnvelopArmorPlugin,
  useCSRFPrevention,
  useDisableIntrospection,
  usePersistedOperations,
  type YogaPlugin,
} from "./yoga.js";

/** The header a non-preflighted request (GET, form posts) must carry (yoga's own name is accepted too). */
export const CSRF_HEADER = "graphql-require-preflight";

/**
 * A limit rejection as a GraphQL error: a message naming the limit and its
 * value (graphql-armor's, without its misleading "Syntax Error:" prefix) and
 * a code. Raised as a parse or validation error, it gets yoga's treatment of
 * those: HTTP 400 for application/graphql-response+json (the GraphQL over
 * HTTP spec's 4xx for a request that never executes), 200 for legacy
 * application/json, as that spec asks. graphql-armor's own rejections
 * throw from inside validation instead, which yoga answers as a 500/200.
 */
function limitError(error: { message: string }, code: string): GraphQLError {
  return new GraphQLError(error.message.replace(/^Syntax Error: /, ""), { extensions: { code } });
}

// Armor's validation rules throw by default, which aborts validation as an
// unexpected error (a masked 500). Reporting through the ValidationContext
// instead makes them ordinary validation errors.
function reported(code: string) {
  return {
    exposeLimits: true,
    propagateOnRejection: false,
    onReject: [(context: ValidationContext | null, error: GraphQLError) => context?.reportError(limitError(error, code))],
  };
}

// The token limit lives in the parser (no ValidationContext): it must throw
// to stop parsing; this hook gives the thrown error its code. graphql-armor
// parses with the CommonJS build of graphql (it `require`s it) while yoga
// uses the ESM build, and the bundle keeps both: yoga would not recognise
// that parser's syntax errors as GraphQL errors and answer 500. Re-creating
// them with our (ESM) GraphQLError keeps them ordinary parse errors (400).
function useParseErrors(): YogaPlugin {
  return {
    onParse() {
      return ({ result, replaceParseResult }) => {
        if (!isGraphQLError(result)) return;
        const tokens = /token limit/i.test(result.message);
        replaceParseResult(
          tokens
            ? limitError(result, "MAX_TOKENS_EXCEEDED")
            : new GraphQLError(result.message, {
                source: result.source ?? null,
                positions: result.positions ?? null,
                extensions: result.extensions,
              }),
        );
      };
    },
  };
}

export function hardeningPlugins(config: GraphqlConfig): YogaPlugin[] {
  const plugins: YogaPlugin[] = [
    useJsonDepthLimit(),
    useCSRFPrevention({ requestHeaders: [CSRF_HEADER, "x-graphql-yoga-csrf"] }),
    EnvelopArmorPlugin({
      maxDepth: { n: config.maxDepth, ...reported("MAX_DEPTH_EXCEEDED") },
      costLimit: { maxCost: config.maxCost, ...reported("MAX_COST_EXCEEDED") },
      maxAliases: { n: config.maxAliases, ...reported("MAX_ALIASES_EXCEEDED") },
      maxDirectives: { n: config.maxDirectives, ...reported("MAX_DIRECTIVES_EXCEEDED") },
      maxTokens: { n: config.maxTokens, exposeLimits: true },
      blockFieldSuggestion: { enabled: !config.introspection },
    }),
    useParseErrors(),
    useErrorCodes(),
  ];
  if (!config.introspection) plugins.push(useDisableIntrospection());
  if (config.persistedOperations.size > 0) {
    const operations = config.persistedOperations;
    const coded = (message: string, code: string) => ({ message, extensions: { code, http: { status: 400 } } });
    plugins.push(
      usePersistedOperations({
        getPersistedOperation: (hash) => operations.get(hash) ?? null,
        allowArbitraryOperations: !config.persistedOnly,
        customErrors: {
          notFound: coded("persisted operation not found in the allow-list", "PERSISTED_QUERY_NOT_FOUND"),
          persistedQueryOnly: coded(
            "only persisted operations are accepted: send extensions.persistedQuery {version: 1, sha256Hash} without a query",
            "PERSISTED_QUERY_ONLY",
          ),
          keyNotFound: coded("the request has neither a query nor a persisted operation hash", "PERSISTED_QUERY_ID_REQUIRED"),
        },
      }),
    );
  }
  return plugins;
}

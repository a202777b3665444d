// GraphQL at /graphql: one yoga instance per isolate (schema, plugins and
// parser caches built once); each request gets its own RequestContext and
// loaders. Queries and batched operations share the request's deadline;
// subscriptions stream over Server-Sent Events (GraphQL over SSE, distinct
// connections mode, as yoga serves it to `Accept: text/event-stream`).
import { GraphQLError } from "graphql";
import type { EdgeConfig } from "../config.js";
import { describe, log } from "../log.js";
import type { Pipeline } from "../pipeline/index.js";
import { withRequestContext, type RequestScope } from "../pipeline/context.js";
import { createGatewayContext, type GatewayContext } from "./context.js";
import { isGraphQLError } from "./errors.js";
import { hardeningPlugins } from "./hardening.js";
import { resolvers } from "./resolvers.js";
import { createSubscriptionSlots } from "./subscription-slots.js";
import { typeDefs } from "./schema.js";
import { createSchema, createYoga } from "./yoga.js";

export const GRAPHQL_PATH = "/graphql";

export type GraphqlHandler = (request: Request, scope: RequestScope) => Promise<Response>;

export function createGraphqlHandler(pipeline: Pipeline, config: EdgeConfig): GraphqlHandler {
  const settings = config.graphql;
  const subscriptions = createSubscriptionSlots({ perCaller: settings.maxSubscriptionsPerCaller, total: settings.maxSubscriptions });
  const yoga = createYoga<{ gateway: GatewayContext }>({
    graphqlEndpoint: GRAPHQL_PATH,
    schema: createSchema({ typeDefs, resolvers }),
    // Hono answers CORS (preflights included) for every protocol alike.
    cors: false,
    graphiql: config.environment === "development",
    landingPage: false,
    batching: settings.maxBatch > 1 ? { limit: settings.maxBatch } : false,
    logging: false,
    // Resolver failures arrive as GraphQLErrors with a code already (see
    // errors.ts); anything else is a bug: logged, then shown as "internal error".
    maskedErrors: {
      maskError(error) {
        const original = isGraphQLError(error) ? error.originalError : error;
        if (isGraphQLError(error) && (original === undefined || original === null || isGraphQLError(original))) return error;
        log("error", "unexpected GraphQL error", { error: describe(original ?? error) });
        return new GraphQLError("internal error", {
          nodes: isGraphQLError(error) ? error.nodes : undefined,
          path: isGraphQLError(error) ? error.path : undefined,
          extensions: { code: "INTERNAL" },
        });
      },
    },
    plugins: hardeningPlugins(settings),
  });

  return (request, scope) =>
    withRequestContext({ scope, maxTimeoutMs: config.requestTimeoutMs, clientSignal: request.signal }, (ctx) =>
      Promise.resolve(
        yoga.fetch(request, {
          gateway: createGatewayContext({ pipeline, config, scope, ctx, clientSignal: request.signal, subscriptions }),
        }),
      ),
    );
}

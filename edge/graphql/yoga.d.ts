// The part of graphql-yoga (and the plugins) the edge uses, typed here on
// purpose: yoga's own typings pull in @whatwg-node/fetch, whose
// `/// <reference lib="dom" />` would add the DOM lib to every program that
// imports the edge (the Worker's, checked against workers-types, and the
// tests'), breaking unrelated code's Request/Response/BodyInit types.
// yoga.js re-exports the real implementations unchanged.
import type { GraphQLError, GraphQLSchema, ValidationContext } from "graphql";

/** A yoga/envelop plugin; the hooks written in this repository are typed, the rest is opaque. */
export interface YogaPlugin {
  onParse?: () => ((payload: { result: unknown; replaceParseResult(result: unknown): void }) => void) | void;
  onValidate?: () =>
    | ((payload: { result: readonly GraphQLError[]; setResult(errors: readonly GraphQLError[]): void }) => void)
    | void;
}

export interface YogaOptions {
  graphqlEndpoint?: string;
  schema: GraphQLSchema;
  cors?: boolean;
  graphiql?: boolean;
  landingPage?: boolean;
  batching?: false | { limit: number };
  logging?: boolean;
  maskedErrors?: { maskError(error: unknown, message: string): Error };
  plugins?: YogaPlugin[];
}

export interface Yoga<TServerContext> {
  fetch(request: Request, serverContext: TServerContext): Promise<Response> | Response;
}

export function createYoga<TServerContext extends object>(options: YogaOptions): Yoga<TServerContext>;
export function createSchema(options: { typeDefs: string; resolvers: object }): GraphQLSchema;

type Push<T> = (value: T) => Promise<unknown>;
type Stop = ((error?: unknown) => void) & Promise<unknown>;

/** @repeaterjs/repeater: an async iterator whose `return()` resolves `stop` at once. */
export class Repeater<T> implements AsyncIterableIterator<T> {
  constructor(executor: (push: Push<T>, stop: Stop) => unknown);
  next(): Promise<IteratorResult<T>>;
  return(value?: unknown): Promise<IteratorResult<T>>;
  throw(error: unknown): Promise<IteratorResult<T>>;
  [Symbol.asyncIterator](): this;
}

export function useCSRFPrevention(options?: { requestHeaders?: string[] }): YogaPlugin;
export function useDisableIntrospection(options?: {
  isDisabled?: (request: Request, context: Record<string, unknown>) => boolean | Promise<boolean>;
}): YogaPlugin;

type ErrorSpec = string | { message: string; extensions?: Record<string, unknown> };
export function usePersistedOperations(options: {
  getPersistedOperation(key: string): string | null | Promise<string | null>;
  allowArbitraryOperations?: boolean;
  customErrors?: { notFound?: ErrorSpec; persistedQueryOnly?: ErrorSpec; keyNotFound?: ErrorSpec };
}): YogaPlugin;

interface Callbacks {
  /** false: report through `onReject` instead of throwing (which aborts validation as an unexpected error). */
  propagateOnRejection?: boolean;
  onReject?: ((context: ValidationContext | null, error: GraphQLError) => void)[];
}
interface Limit extends Callbacks {
  enabled?: boolean;
  n?: number;
  exposeLimits?: boolean;
}
export function EnvelopArmorPlugin(config: {
  maxDepth?: Limit;
  maxAliases?: Limit;
  maxDirectives?: Limit;
  maxTokens?: Limit;
  costLimit?: Callbacks & { enabled?: boolean; maxCost?: number; exposeLimits?: boolean };
  blockFieldSuggestion?: { enabled?: boolean };
}): YogaPlugin;

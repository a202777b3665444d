// Carries the Hono request's scope (request id, timings) into connect-es
// handler contexts, which only see what the universal request brings along.
import { createContextKey } from "@connectrpc/connect";
import { detachedScope, type RequestScope } from "../pipeline/context.js";

export const scopeKey = createContextKey<RequestScope>(detachedScope(), { description: "edge request scope" });

// Placeholder until caching lands: every request goes upstream.
import type { InferenceCache } from "./types.js";

export function noCache(): InferenceCache {
  return {
    async through(_input, ctx, miss) {
      ctx.scope.responseHeaders.set("x-cache", "BYPASS");
      return miss();
    },
  };
}

// CACHE_ENABLED=false: every inference goes upstream and says so.
import type { InferenceCache } from "./types.js";

export function noCache(): InferenceCache {
  return {
    async through(_input, ctx, miss) {
      ctx.scope.responseHeaders.set("x-cache", "BYPASS");
      ctx.scope.responseHeaders.set("cache-status", "edge; fwd=bypass; detail=disabled");
      return miss();
    },
  };
}

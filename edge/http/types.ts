import type { Env } from "../env.js";
import type { RequestScope } from "../pipeline/context.js";
import type { Runtime } from "../runtime.js";

/** Hono's typing for the edge app: bindings plus what middleware sets per request. */
export interface AppEnv {
  Bindings: Env;
  Variables: {
    scope: RequestScope;
    runtime: Runtime;
  };
}

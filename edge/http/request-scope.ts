// First middleware: gives the request an id (the caller's x-request-id when
// it is sane, so traces join up across hops) and, once the response exists,
// writes x-request-id and Server-Timing (upstream attempts + edge total).
import type { Context, MiddlewareHandler } from "hono";
import type { RequestScope } from "../pipeline/context.js";
import type { AppEnv } from "./types.js";

const SAFE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function requestScope(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const started = Date.now();
    const incoming = c.req.header("x-request-id");
    const scope: RequestScope = {
      requestId: incoming !== undefined && SAFE_ID.test(incoming) ? incoming : crypto.randomUUID(),
      timings: [],
      // Cloudflare sets cf-connecting-ip (so do wrangler dev and Miniflare);
      // clients cannot spoof it past Cloudflare's edge.
      client: { headers: c.req.raw.headers, ip: c.req.header("cf-connecting-ip") ?? "unknown" },
      responseHeaders: new Headers(),
      waitUntil: waitUntilOf(c),
    };
    c.set("scope", scope);
    await next();
    const timing = scope.timings.map((t) => `${t.name};dur=${t.durationMs}${t.description ? `;desc="${t.description}"` : ""}`);
    timing.push(`edge;dur=${Date.now() - started}`);
    setHeader(c.res, "x-request-id", scope.requestId);
    scope.responseHeaders.forEach((value, name) => setHeader(c.res, name, value));
    setHeader(c.res, "server-timing", timing.join(", "));
  };
}

function setHeader(res: Response, name: string, value: string): void {
  try {
    res.headers.set(name, value);
  } catch {
    // Immutable headers (a Response passed through from fetch): skip rather than copy the body.
  }
}

/** The Worker's waitUntil; outside a Worker (unit tests via app.request) the work just runs. */
function waitUntilOf(c: Context<AppEnv>): (work: Promise<unknown>) => void {
  try {
    const executionCtx = c.executionCtx;
    return (work) => executionCtx.waitUntil(work);
  } catch {
    return (work) => void work.catch(() => undefined);
  }
}

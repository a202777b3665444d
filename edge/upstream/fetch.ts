// connect-web's transport is written for browsers and passes RequestInit
// fields workerd does not implement (it throws on `redirect: "error"`, and
// rejects `mode`/`credentials`/`cache`). This wrapper forwards only what the
// Connect protocol needs. It also turns a network failure into `unavailable`
// naming the worker, so the pool can retry elsewhere (connect-web would call
// it `unknown`).
import { Code, ConnectError } from "@connectrpc/connect";

export type FetchFn = typeof fetch;

export function workerFetch(baseFetch: FetchFn = (...args) => fetch(...args)): FetchFn {
  return (async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    try {
      return await baseFetch(url, {
        method: init?.method ?? "POST",
        headers: init?.headers,
        body: init?.body ?? null,
        signal: init?.signal ?? null,
        // A worker never redirects; "manual" hands a stray 3xx to Connect's
        // response validation, which reports it as an error.
        redirect: "manual",
      });
    } catch (error) {
      if (init?.signal?.aborted) throw error;
      const detail = error instanceof Error ? error.message : String(error);
      throw new ConnectError(`worker ${new URL(url).origin} unreachable: ${detail}`, Code.Unavailable, undefined, undefined, error);
    }
  }) as FetchFn;
}

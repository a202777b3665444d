// A page on another origin calls the edge straight from the browser with
// the client bundle: an origin in CORS_ORIGINS works over Connect and
// gRPC-Web (and can read grpc-status, x-cache, Server-Timing), any other
// origin is refused by the browser itself.
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEdge, type EdgeHandle } from "../support/edge-runtime.js";
import { startWorker, type WorkerHandle } from "../support/worker-process.js";
import { launchBrowser } from "./browser.js";
import { startStaticSite, type StaticSite } from "./static-server.js";

let worker: WorkerHandle;
let edge: EdgeHandle;
let browser: Browser;
let allowed: StaticSite;
let denied: StaticSite;

beforeAll(async () => {
  allowed = await startStaticSite();
  denied = await startStaticSite();
  worker = await startWorker();
  edge = await startEdge({ WORKER_URLS: worker.url, CORS_ORIGINS: allowed.origin });
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await edge?.dispose();
  await worker?.stop();
  await allowed?.close();
  await denied?.close();
});

async function openSite(site: StaticSite): Promise<Page> {
  const page = await browser.newPage();
  await page.goto(`${site.origin}/`);
  await page.waitForFunction(() => (globalThis as any).document.title === "ready", undefined, { timeout: 10_000 });
  return page;
}

interface Outcome {
  ok: boolean;
  code?: string;
  message?: string;
  labels?: unknown[];
  headers?: Record<string, string | null>;
}

/** Runs iris (or `model`) in the page with the client bundle; reports what the page could see. */
function callFromPage(page: Page, protocol: string, model = "iris"): Promise<Outcome> {
  return page.evaluate(
    async ({ baseUrl, protocol, model }) => {
      const gw = (globalThis as any).gw;
      const client = gw.createGatewayClient({ baseUrl, protocol });
      const request = gw.inferRequest(model, [{ name: "input", datatype: "FP32", shape: [2, 4], data: [[5.1, 3.5, 1.4, 0.2], [6.3, 3.3, 6.0, 2.5]] }]);
      let header: any;
      try {
        const response = await client.modelInfer(request, { onHeader: (h: any) => (header = h) });
        const label = gw.outputsOf(response).find((o: any) => o.name === "label");
        return {
          ok: true,
          labels: label.data,
          headers: { "x-cache": header?.get("x-cache") ?? null, "server-timing": header?.get("server-timing") ?? null },
        };
      } catch (error) {
        return { ok: false, ...gw.describeError(error) };
      }
    },
    { baseUrl: edge.url, protocol, model },
  );
}

describe("cross-origin calls from a browser", () => {
  for (const protocol of ["connect-json", "connect-binary", "grpc-web"]) {
    it(`an allowed origin calls the edge with ${protocol} and reads its headers`, async () => {
      const page = await openSite(allowed);
      const outcome = await callFromPage(page, protocol);
      expect(outcome).toMatchObject({ ok: true, labels: [0, 2] });
      expect(outcome.headers!["x-cache"]).toMatch(/^(HIT|MISS)$/);
      expect(outcome.headers!["server-timing"]).toContain("edge;dur=");
      // Errors keep their code across origins (grpc-status/-message exposed for gRPC-Web).
      expect(await callFromPage(page, protocol, "no-such-model")).toMatchObject({ ok: false, code: "not_found" });
      await page.close();
    });

    it(`another origin is refused by the browser (${protocol})`, async () => {
      const page = await openSite(denied);
      const outcome = await callFromPage(page, protocol);
      expect(outcome.ok).toBe(false);
      // The browser hides everything: no status, no code, just a failed fetch.
      expect(outcome.code).toBe("unknown");
      expect(outcome.message).toMatch(/fetch/i);
      await page.close();
    });
  }

  it("the preflight names what Connect and gRPC-Web need", async () => {
    const response = await fetch(`${edge.url}/inference.GRPCInferenceService/ModelInfer`, {
      method: "OPTIONS",
      headers: {
        origin: allowed.origin,
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type,x-grpc-web,x-user-agent,grpc-timeout,connect-protocol-version,connect-timeout-ms,authorization,x-api-key,cache-control",
      },
    });
    expect(response.status).toBeLessThan(300);
    expect(response.headers.get("access-control-allow-origin")).toBe(allowed.origin);
    const allow = response.headers.get("access-control-allow-headers")!.toLowerCase();
    for (const h of ["content-type", "x-grpc-web", "x-user-agent", "grpc-timeout", "connect-protocol-version", "connect-timeout-ms", "authorization", "x-api-key", "cache-control"]) {
      expect(allow).toContain(h);
    }
    const denial = await fetch(`${edge.url}/inference.GRPCInferenceService/ModelInfer`, {
      method: "OPTIONS",
      headers: { origin: denied.origin, "access-control-request-method": "POST" },
    });
    expect(denial.headers.get("access-control-allow-origin")).not.toBe(denied.origin);
    const simple = await fetch(`${edge.url}/v2/health/live`, { headers: { origin: allowed.origin } });
    const exposed = simple.headers.get("access-control-expose-headers")!.toLowerCase();
    for (const h of ["grpc-status", "grpc-message", "x-cache", "server-timing", "retry-after", "ratelimit", "ratelimit-policy"]) {
      expect(exposed).toContain(h);
    }
  });
});

// Cancelling a call in the browser: an AbortController or a deadline cancels
// all the way down, so the worker counts the run as cancelled rather than
// completed. A deadline travels with the call (the edge forwards it and the
// worker enforces it). An abort only closes the browser's HTTP/1.1
// connection, which local workerd never notices, so the client also sends
// ModelInferCancel for the call's id; the edge passes it to the workers.
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEdge, type EdgeHandle } from "../support/edge-runtime.js";
import { FIXTURE_MODELS } from "../support/paths.js";
import { waitFor } from "../support/ports.js";
import { metricValue, startWorker, type WorkerHandle } from "../support/worker-process.js";
import { launchBrowser } from "./browser.js";

let worker: WorkerHandle;
let edge: EdgeHandle;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  worker = await startWorker({ repository: FIXTURE_MODELS });
  edge = await startEdge({ WORKER_URLS: worker.url }, { assets: true });
  browser = await launchBrowser();
  page = await browser.newPage();
  // The playground's origin, with the client bundle it serves. (A string,
  // so vitest's transform leaves the browser's own import() alone.)
  await page.goto(`${edge.url}/`);
  await page.evaluate(`import("/client.js").then((m) => { globalThis.gw = m; })`);
});

afterAll(async () => {
  await browser?.close();
  await edge?.dispose();
  await worker?.stop("SIGKILL");
});

const outcomes = async (outcome: string) =>
  metricValue(await worker.metrics(), "worker_inference_requests_total", 'model="slow"', `outcome="${outcome}"`);

type Outcome = { code: string; ms: number };

/** One `slow` call from the page, aborted after `abortMs` or given a `timeoutMs` deadline. */
function slowCall(protocol: string, options: { abortMs?: number; timeoutMs?: number }): Promise<Outcome> {
  return page.evaluate(
    async ({ baseUrl, protocol, abortMs, timeoutMs }) => {
      const gw = (globalThis as any).gw;
      const client = gw.createGatewayClient({ baseUrl, protocol });
      const request = gw.inferRequest("slow", [{ name: "x", datatype: "FP32", shape: [1, 8], data: [1, 2, 3, 4, 5, 6, 7, 8] }]);
      const controller = new AbortController();
      if (abortMs !== undefined) setTimeout(() => controller.abort(), abortMs);
      const started = performance.now();
      try {
        await client.modelInfer(request, { signal: controller.signal, ...(timeoutMs ? { timeoutMs } : {}) });
        return { code: "ok", ms: performance.now() - started };
      } catch (error) {
        return { code: gw.describeError(error).code, ms: performance.now() - started };
      }
    },
    { baseUrl: edge.url, protocol, abortMs: options.abortMs, timeoutMs: options.timeoutMs },
  );
}

async function settledCounts(before: { cancelled: number; success: number }) {
  // The slow fixture runs ~300 ms: wait until the worker has recorded an outcome for this call.
  await waitFor("the worker to record the call", async () => (await outcomes("cancelled")) + (await outcomes("success")) > before.cancelled + before.success, 5_000);
  await new Promise((r) => setTimeout(r, 300));
  return { cancelled: (await outcomes("cancelled")) - before.cancelled, success: (await outcomes("success")) - before.success };
}

const counts = async () => ({ cancelled: await outcomes("cancelled"), success: await outcomes("success") });

describe("cancelling a browser call", () => {
  for (const protocol of ["grpc-web", "connect-binary"]) {
    it(`${protocol}: a browser deadline is cancelled through the edge to the worker`, async () => {
      const before = await counts();
      // connect-web sends the deadline (grpc-timeout / connect-timeout-ms);
      // the edge's deadline aborts its upstream call and the worker cancels.
      const result = await slowCall(protocol, { timeoutMs: 100 });
      expect(result.code).toBe("deadline_exceeded");
      expect(await settledCounts(before)).toEqual({ cancelled: 1, success: 0 });
    });

    it(`${protocol}: AbortController cancels the call in the browser at once`, async () => {
      // The same call left alone, from the same page: how long a run takes here.
      const whole = await slowCall(protocol, {});
      expect(whole.code).toBe("ok");
      const before = await counts();
      const result = await slowCall(protocol, { abortMs: 100 });
      expect(result.code).toBe("canceled");
      // "At once": the page hears the cancellation before a run could have ended.
      expect(result.ms).toBeLessThan(whole.ms);
      // Wait until the worker has recorded the abandoned call before the next test counts.
      await settledCounts(before);
    });

    it(`${protocol}: AbortController reaches the worker as a cancellation`, async () => {
      const before = await counts();
      await slowCall(protocol, { abortMs: 100 });
      expect(await settledCounts(before)).toEqual({ cancelled: 1, success: 0 });
    });
  }
});

describe("the playground's Cancel button", () => {
  // REST and GraphQL calls from the page carry an id and send the protocol's
  // own cancel (POST .../cancel, the cancelInference mutation) on abort;
  // Connect JSON goes through the client like the tests above.
  for (const protocol of ["rest", "graphql", "connect-json"]) {
    it(`${protocol}: Cancel ends the call in the page and the worker counts a cancellation`, async () => {
      const ui = await browser.newPage();
      try {
        await ui.goto(`${edge.url}/`);
        await ui.waitForSelector("body[data-ready=true]", { timeout: 15_000 });
        await ui.fill("#model", "slow");
        // Leaving the field fires the page's one "change" (a dispatched event would leave a native one
        // pending for the next click elsewhere, whose late metadata would refill the editor).
        await ui.locator("#model").blur();
        await ui.waitForSelector("#meta table");
        await ui.click("#tab-json");
        await ui.fill("#json", JSON.stringify({ inputs: [{ name: "x", datatype: "FP32", shape: [1, 8], data: [1, 2, 3, 4, 5, 6, 7, 8] }] }));
        await ui.check(`#protocols input[value="${protocol}"]`);
        const before = await counts();
        await ui.click("#send");
        await ui.waitForTimeout(100);
        await ui.click("#cancel");
        await ui.waitForSelector('#status[data-code="canceled"]', { timeout: 5_000 });
        expect(await settledCounts(before)).toEqual({ cancelled: 1, success: 0 });
      } finally {
        await ui.close();
      }
    });
  }
});

// Errors in the playground read as what they are, whatever the protocol:
// an unknown model, a tensor of the wrong shape, and a caller over its rate
// limit (a tiny anonymous plan on a real Redis) each show their code, the
// edge's message and, when limited, Retry-After.
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEdge, type EdgeHandle } from "../support/edge-runtime.js";
import { startRedisStack, type RedisStack } from "../support/redis-stack.js";
import { startWorker, type WorkerHandle } from "../support/worker-process.js";
import { launchBrowser } from "./browser.js";

let worker: WorkerHandle;
let redis: RedisStack;
let edge: EdgeHandle;
let browser: Browser;
let page: Page;

const PROTOCOLS = ["rest", "connect-json", "connect-binary", "grpc-web", "graphql"];

beforeAll(async () => {
  worker = await startWorker();
  redis = await startRedisStack();
  edge = await startEdge(
    {
      WORKER_URLS: worker.url,
      ...redis.edgeVars(),
      // Enough requests for the page and the error cases, then a wall.
      PLANS: JSON.stringify({ tiny: { requests: 30, cost: 1000, window_s: 60, models: "*" } }),
      AUTH_ANONYMOUS_PLAN: "tiny",
    },
    { assets: true },
  );
  browser = await launchBrowser();
  page = await browser.newPage();
  await page.goto(`${edge.url}/`);
  await page.waitForSelector("body[data-ready=true]", { timeout: 15_000 });
});

afterAll(async () => {
  await browser?.close();
  await edge?.dispose();
  await redis?.close();
  await worker?.stop();
});

async function sendVia(protocol: string): Promise<{ code: string; text: string }> {
  await page.check(`#protocols input[value="${protocol}"]`);
  const previous = await page.getAttribute("#status", "data-seq");
  await page.evaluate(`document.getElementById("status").dataset.seq = String(Math.random())`);
  await page.click("#send");
  await page.waitForFunction((prev) => {
    const status = (globalThis as any).document.getElementById("status");
    return status.dataset.code !== undefined && !(globalThis as any).document.body.classList.contains("busy") && status.dataset.seq !== prev;
  }, previous);
  return { code: (await page.getAttribute("#status", "data-code"))!, text: (await page.textContent("#result-h + #status"))! };
}

describe("readable errors in the browser", () => {
  it("an unknown model says not_found and names it, on every protocol", async () => {
    await page.fill("#model", "no-such-model");
    // Leaving the field fires the page's one "change" (a dispatched event would leave a native one
    // pending for the next click elsewhere, whose late metadata would refill the editor).
    await page.locator("#model").blur();
    await page.waitForSelector("#meta .error");
    expect(await page.textContent("#meta")).toContain("no-such-model");
    await page.click("#tab-json");
    await page.fill("#json", JSON.stringify({ inputs: [{ name: "input", datatype: "FP32", shape: [1, 4], data: [1, 2, 3, 4] }] }));
    for (const protocol of PROTOCOLS) {
      const { code, text } = await sendVia(protocol);
      expect([protocol, code]).toEqual([protocol, "not_found"]);
      expect(text).toContain("no-such-model");
    }
  });

  it("a bad shape says invalid_argument and names the tensor, on every protocol", async () => {
    await page.fill("#model", "iris");
    // Leaving the field fires the page's one "change" (a dispatched event would leave a native one
    // pending for the next click elsewhere, whose late metadata would refill the editor).
    await page.locator("#model").blur();
    await page.waitForSelector("#meta table");
    await page.click("#tab-json");
    // The page refills the editor from the form once the model's metadata
    // has loaded; let that settle so it cannot overwrite the bad body.
    await page.waitForLoadState("networkidle");
    const bad = JSON.stringify({ inputs: [{ name: "input", datatype: "FP32", shape: [1, 3], data: [1, 2, 3] }] });
    await page.fill("#json", bad);
    await page.waitForFunction((value) => (globalThis as any).document.querySelector("#json").value === value, bad);
    for (const protocol of PROTOCOLS) {
      const { code, text } = await sendVia(protocol);
      expect([protocol, code]).toEqual([protocol, "invalid_argument"]);
      expect(text).toContain("input");
    }
    await page.screenshot({ path: "test-results/playground-error.png" });
  });

  it("over the rate limit says resource_exhausted with Retry-After", async () => {
    await page.fill("#json", JSON.stringify({ inputs: [{ name: "input", datatype: "FP32", shape: [1, 4], data: [5.1, 3.5, 1.4, 0.2] }] }));
    const protocols = ["connect-binary", "grpc-web", "rest"];
    let limited: { code: string; text: string } | undefined;
    for (let i = 0; i < 40 && !limited; i++) {
      const result = await sendVia(protocols[i % protocols.length]!);
      if (result.code !== "ok") limited = result;
    }
    expect(limited?.code).toBe("resource_exhausted");
    expect(await page.textContent("#headers")).toContain("Retry-After");
    // Every protocol reports the same limit while it lasts.
    for (const protocol of PROTOCOLS) expect([protocol, (await sendVia(protocol)).code]).toEqual([protocol, "resource_exhausted"]);
  });
});

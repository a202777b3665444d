// The playground in a real browser against a real edge (workerd, with the
// static assets as deployed) and a real worker: the page loads, lists iris,
// runs it over every protocol with identical outputs, and looks right on a
// desktop and a phone (screenshots saved under test-results/).
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { irisReference } from "../support/iris.js";
import { startEdge, type EdgeHandle } from "../support/edge-runtime.js";
import { startWorker, type WorkerHandle } from "../support/worker-process.js";
import { ARTIFACTS, launchBrowser } from "./browser.js";

let worker: WorkerHandle;
let edge: EdgeHandle;
let browser: Browser;

beforeAll(async () => {
  worker = await startWorker();
  edge = await startEdge({ WORKER_URLS: worker.url }, { assets: true });
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await edge?.dispose();
  await worker?.stop();
});

async function openPlayground(viewport: { width: number; height: number }): Promise<Page> {
  const page = await browser.newPage({ viewport });
  const problems: string[] = [];
  page.on("pageerror", (error) => problems.push(error.message));
  await page.goto(`${edge.url}/`);
  await page.waitForSelector("body[data-ready=true]", { timeout: 15_000 });
  expect(problems).toEqual([]);
  return page;
}

describe("playground page", () => {
  it("serves the page and the client bundle as static assets", async () => {
    const html = await fetch(`${edge.url}/`);
    expect(html.status).toBe(200);
    expect(await html.text()).toContain("Inference playground");
    const client = await fetch(`${edge.url}/client.js`);
    expect(client.status).toBe(200);
    expect(client.headers.get("content-type")).toMatch(/javascript/);
    // The Worker still answers its own routes behind the assets.
    expect((await fetch(`${edge.url}/v2/health/live`)).status).toBe(200);
  });

  it("runs iris over every protocol with identical results, and shows status, x-cache and Server-Timing", async () => {
    const page = await openPlayground({ width: 1280, height: 900 });
    expect(await page.inputValue("#model")).toBe("iris");
    await page.waitForSelector("#meta table");
    expect(await page.textContent("#meta")).toContain("probabilities");
    // GraphQL is offered once /graphql answers (it does on this edge).
    expect(await page.isEnabled('#protocols input[value="graphql"]')).toBe(true);

    // Three known rows through the raw JSON editor.
    const rows = [
      [5.1, 3.5, 1.4, 0.2],
      [7.0, 3.2, 4.7, 1.4],
      [6.3, 3.3, 6.0, 2.5],
    ];
    await page.click("#tab-json");
    await page.fill("#json", JSON.stringify({ inputs: [{ name: "input", datatype: "FP32", shape: [3, 4], data: rows }] }));
    await page.click("#run-all");
    await page.waitForSelector("#compare[data-identical]", { timeout: 20_000 });
    expect(await page.getAttribute("#compare", "data-identical")).toBe("true");
    const compare = (await page.textContent("#compare"))!;
    for (const label of ["REST", "Connect JSON", "Connect binary", "gRPC-Web", "GraphQL"]) expect(compare).toContain(label);

    // The last result shown equals onnxruntime's own answer.
    const reference = await irisReference(rows);
    const key = JSON.parse((await page.getAttribute("#outputs", "data-key"))!) as { name: string; data: number[] }[];
    expect(key.find((o) => o.name === "probabilities")!.data).toEqual(reference.probabilities);
    expect(key.find((o) => o.name === "label")!.data).toEqual(reference.label);

    // One protocol at a time: status, x-cache and Server-Timing are shown.
    await page.check('#protocols input[value="grpc-web"]');
    await page.click("#send");
    await page.waitForSelector("#status.ok");
    expect(await page.textContent("#status")).toContain("gRPC-Web");
    expect(await page.textContent("#headers")).toMatch(/x-cache\s*HIT|x-cache\s*MISS/);
    expect(await page.textContent("#headers")).toContain("Server-Timing");
    expect(await page.locator("#chart circle").count()).toBe(6);

    // The benchmark hook the bench drives.
    const bench = await page.evaluate(() => (globalThis as any).gatewayBench("connect-binary", 3, { bypassCache: true }));
    expect(bench.latenciesMs).toHaveLength(3);
    expect(bench.requestBytes.every((b: number) => b > 0)).toBe(true);
    expect(bench.errors).toEqual({});

    await page.click("#tab-form");
    await page.screenshot({ path: join(ARTIFACTS, "playground.png"), fullPage: true });
    await page.close();
  });

  it("fits a phone-sized screen", async () => {
    const page = await openPlayground({ width: 390, height: 844 });
    await page.click("#run-all");
    await page.waitForSelector("#compare[data-identical=true]", { timeout: 20_000 });
    // Nothing wider than the screen: no sideways scrolling.
    const overflow = await page.evaluate(() => {
      const doc = (globalThis as any).document.documentElement;
      return doc.scrollWidth - doc.clientWidth;
    });
    expect(overflow).toBeLessThanOrEqual(0);
    await page.screenshot({ path: join(ARTIFACTS, "playground-phone.png"), fullPage: true });
    await page.close();
  });
});

import { describe, expect, it } from "vitest";
import { parseCatalogueConfig } from "../../../edge/catalogue/config.js";
import { cachedReadiness } from "../../../edge/catalogue/ready.js";
import { createRequestContext, detachedScope } from "../../../edge/pipeline/context.js";

const ctx = () => createRequestContext({ scope: detachedScope("t"), maxTimeoutMs: 1000 });

/** A probe whose answers the test releases one by one. */
function controlledProbe() {
  const pending: ((ready: boolean) => void)[] = [];
  let calls = 0;
  const probe = () => {
    calls++;
    return new Promise<boolean>((resolve) => pending.push(resolve));
  };
  return { probe, pending, calls: () => calls };
}

describe("cached readiness", () => {
  it("reuses an answer for the TTL, then one probe refreshes while the others answer the last reading", async () => {
    const clock = { t: 0 };
    const worker = controlledProbe();
    const ready = cachedReadiness(worker.probe, { ttlMs: 1000, now: () => clock.t });

    const first = ready(ctx());
    // The isolate's very first reading is under way: others answer not ready instead of calling too.
    expect(await ready(ctx())).toBe(false);
    worker.pending.shift()!(true);
    expect(await first).toBe(true);
    for (let i = 0; i < 10; i++) expect(await ready(ctx())).toBe(true);
    expect(worker.calls()).toBe(1);

    clock.t = 1500; // stale: the next probe refreshes, the rest keep the last reading meanwhile
    const refresh = ready(ctx());
    const during = await Promise.all(Array.from({ length: 10 }, () => ready(ctx())));
    expect(during).toEqual(Array(10).fill(true));
    expect(worker.calls()).toBe(2);
    worker.pending.shift()!(false);
    expect(await refresh).toBe(false);
    expect(await ready(ctx())).toBe(false);
    expect(worker.calls()).toBe(2);
  });

  it("a failed refresh keeps the last reading and lets the next probe try again", async () => {
    const clock = { t: 0 };
    let calls = 0;
    const ready = cachedReadiness(
      async () => {
        calls++;
        if (calls === 2) throw new Error("boom");
        return true;
      },
      { ttlMs: 100, now: () => clock.t },
    );
    expect(await ready(ctx())).toBe(true);
    clock.t = 200;
    await expect(ready(ctx())).rejects.toThrow("boom");
    expect(await ready(ctx())).toBe(true);
    expect(calls).toBe(3);
  });

  it("reads READY_CACHE_TTL_MS and the catalogue's bounds from the environment, refusing bad values", () => {
    expect(parseCatalogueConfig({})).toEqual({ ttlMs: 5000, negativeTtlMs: 2000, maxEntries: 1000, readyTtlMs: 1000 });
    expect(parseCatalogueConfig({ READY_CACHE_TTL_MS: "0", CATALOGUE_NEGATIVE_TTL_MS: "0" })).toMatchObject({ readyTtlMs: 0, negativeTtlMs: 0 });
    expect(() => parseCatalogueConfig({ CATALOGUE_MAX_ENTRIES: "0" })).toThrow(/CATALOGUE_MAX_ENTRIES/);
    expect(() => parseCatalogueConfig({ READY_CACHE_TTL_MS: "soon" })).toThrow(/READY_CACHE_TTL_MS/);
  });
});

import { describe, expect, it } from "vitest";
import { clientCacheMode } from "../../../edge/cache/control.js";

const mode = (headers: Record<string, string>) => clientCacheMode(new Headers(headers));

describe("client Cache-Control", () => {
  it("defaults when absent or irrelevant", () => {
    expect(mode({})).toBe("default");
    expect(mode({ "cache-control": "max-age=60" })).toBe("default");
    expect(mode({ "cache-control": "no-transform" })).toBe("default");
  });

  it("no-cache, max-age=0 and Pragma: no-cache revalidate", () => {
    expect(mode({ "cache-control": "no-cache" })).toBe("no-cache");
    expect(mode({ "cache-control": "No-Cache" })).toBe("no-cache");
    expect(mode({ "cache-control": "max-age=0" })).toBe("no-cache");
    expect(mode({ "cache-control": "foo, no-cache" })).toBe("no-cache");
    expect(mode({ pragma: "no-cache" })).toBe("no-cache");
    // Pragma only counts without Cache-Control (RFC 9111).
    expect(mode({ pragma: "no-cache", "cache-control": "max-age=10" })).toBe("default");
  });

  it("no-store wins over no-cache", () => {
    expect(mode({ "cache-control": "no-store" })).toBe("no-store");
    expect(mode({ "cache-control": "no-cache, no-store" })).toBe("no-store");
    expect(mode({ "cache-control": " NO-STORE " })).toBe("no-store");
  });
});

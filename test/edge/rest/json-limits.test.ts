import { describe, expect, it } from "vitest";
import { MAX_JSON_DEPTH, jsonTextTooDeep, quote } from "../../../edge/rest/json-limits.js";

const nested = (depth: number, open = "[", close = "]") => open.repeat(depth) + close.repeat(depth);

describe("jsonTextTooDeep", () => {
  it("counts arrays and objects, at, under and over the limit", () => {
    expect(jsonTextTooDeep(nested(MAX_JSON_DEPTH - 1), MAX_JSON_DEPTH)).toBe(false);
    expect(jsonTextTooDeep(nested(MAX_JSON_DEPTH), MAX_JSON_DEPTH)).toBe(false);
    expect(jsonTextTooDeep(nested(MAX_JSON_DEPTH + 1), MAX_JSON_DEPTH)).toBe(true);
    expect(jsonTextTooDeep('{"a":'.repeat(4) + "1" + "}".repeat(4), 3)).toBe(true);
    expect(jsonTextTooDeep('[{"a":[1]}]', 3)).toBe(false);
    expect(jsonTextTooDeep('[{"a":[[1]]}]', 3)).toBe(true);
  });

  it("measures depth, not the number of containers (siblings do not add up)", () => {
    expect(jsonTextTooDeep(`[${Array(10_000).fill("[[1]]").join(",")}]`, 3)).toBe(false);
  });

  it("ignores brackets inside strings, escaped quotes included", () => {
    expect(jsonTextTooDeep(JSON.stringify({ s: "[[[[[[[[{{{{" }), 1)).toBe(false);
    expect(jsonTextTooDeep(JSON.stringify(['a"[[[[', "\\", "x\\\"[[["]), 1)).toBe(false);
    expect(jsonTextTooDeep(JSON.stringify(["\\", [[1]]]), 2)).toBe(true);
  });

  it("leaves malformed text to the parser (an unterminated string is not deep)", () => {
    expect(jsonTextTooDeep('["[[[[[[', 1)).toBe(false);
  });
});

describe("quote", () => {
  it("writes scalars as JSON and cuts long strings", () => {
    expect(quote("x")).toBe('"x"');
    expect(quote(1.5)).toBe("1.5");
    expect(quote(12345678901234567890n)).toBe("12345678901234567890");
    expect(quote(null)).toBe("null");
    expect(quote(false)).toBe("false");
    const long = quote("y".repeat(1_000_000));
    expect(long.length).toBeLessThan(80);
    expect(long).toMatch(/^"y+…"$/);
  });

  it("describes arrays and objects without serializing them, however deep", () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = { a: deep };
    expect(quote(deep)).toBe("an object");
    expect(quote([deep, 2])).toBe("an array of 2");
  });
});

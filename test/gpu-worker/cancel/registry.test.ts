// The worker's cancellation registry: ModelInferCancel reaches the calls in
// flight under (model, id), and a cancellation that overtakes its call
// refuses it on arrival, for a bounded time and number of ids.
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { CancelRegistry } from "../../../gpu-worker/cancel/registry.js";

const registry = (over: { rememberMs?: number; maxRemembered?: number; now?: () => number } = {}) =>
  new CancelRegistry({ rememberMs: 1000, maxRemembered: 100, ...over });

describe("CancelRegistry", () => {
  it("aborts every call in flight under the id, with canceled, and only those", () => {
    const calls = registry();
    const a = calls.track("iris", "x");
    const b = calls.track("iris", "x");
    const otherId = calls.track("iris", "y");
    const otherModel = calls.track("slow", "x");
    expect(calls.cancel("iris", "x")).toBe(2);
    for (const call of [a, b]) {
      expect(call.signal.aborted).toBe(true);
      expect(call.signal.reason).toBeInstanceOf(ConnectError);
      expect((call.signal.reason as ConnectError).code).toBe(Code.Canceled);
    }
    expect(otherId.signal.aborted).toBe(false);
    expect(otherModel.signal.aborted).toBe(false);
  });

  it("forgets released calls: cancelling a finished call finds nothing", () => {
    const calls = registry();
    const call = calls.track("iris", "x");
    call.release();
    expect(calls.size).toBe(0);
    expect(calls.cancel("iris", "x")).toBe(0);
    expect(call.signal.aborted).toBe(false);
  });

  it("refuses a call that arrives after its cancellation, until rememberMs has passed", () => {
    let t = 0;
    const calls = registry({ rememberMs: 1000, now: () => t });
    expect(calls.cancel("iris", "late")).toBe(0);
    t = 999;
    const late = calls.track("iris", "late");
    expect(late.signal.aborted).toBe(true);
    expect((late.signal.reason as ConnectError).code).toBe(Code.Canceled);
    t = 1000;
    expect(calls.track("iris", "late").signal.aborted).toBe(false);
  });

  it("remembers at most maxRemembered ids, forgetting the oldest first", () => {
    const calls = registry({ maxRemembered: 2 });
    calls.cancel("m", "1");
    calls.cancel("m", "2");
    calls.cancel("m", "3");
    expect(calls.track("m", "1").signal.aborted).toBe(false);
    expect(calls.track("m", "2").signal.aborted).toBe(true);
    expect(calls.track("m", "3").signal.aborted).toBe(true);
  });

  it("keeps no reference to a cancelled call's id in the live table", () => {
    const calls = registry();
    calls.track("iris", "x");
    calls.cancel("iris", "x");
    expect(calls.size).toBe(0);
  });
});

import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { SingleFlight } from "../../../edge/cache/single-flight.js";

describe("SingleFlight", () => {
  it("removes the flight before it settles, also on a synchronous throw", async () => {
    const flights = new SingleFlight<number>();
    const signal = new AbortController().signal;
    const f = flights.start("k", signal, async () => 1);
    expect(flights.get("k")).toBe(f);
    expect(await f.promise).toBe(1);
    expect(flights.size).toBe(0);
    const g = flights.start("k", signal, () => {
      throw new Error("sync");
    });
    await expect(g.promise).rejects.toThrow("sync");
    expect(flights.size).toBe(0);
  });

  it("join resolves with the value, or asks to retry when only the leader was cancelled", async () => {
    const flights = new SingleFlight<number>();
    const leader = new AbortController();
    const f = flights.start("k", leader.signal, async () => 2);
    expect(await flights.join(f, new AbortController().signal)).toEqual({ value: 2 });

    const h = flights.start("k", leader.signal, () => new Promise<number>((_, reject) => leader.signal.addEventListener("abort", () => reject(new Error("cancelled")))));
    const joined = flights.join(h, new AbortController().signal);
    leader.abort();
    expect(await joined).toEqual({ retry: true });
  });
});

describe("SingleFlight and cancellation by id", () => {
  it("a follower retries when the flight failed as canceled (its leader's ModelInferCancel), not inheriting it", async () => {
    const flights = new SingleFlight<number>();
    const f = flights.start("k", new AbortController().signal, async () => {
      throw new ConnectError("the call was cancelled by its caller", Code.Canceled);
    });
    f.promise.catch(() => undefined);
    expect(await flights.join(f, new AbortController().signal)).toEqual({ retry: true });
  });

  it("other failures still reach followers", async () => {
    const flights = new SingleFlight<number>();
    const f = flights.start("k", new AbortController().signal, async () => {
      throw new ConnectError("bad input", Code.InvalidArgument);
    });
    f.promise.catch(() => undefined);
    await expect(flights.join(f, new AbortController().signal)).rejects.toThrow("bad input");
  });
});

import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { SingleFlight } from "../../../edge/cache/single-flight.js";

describe("SingleFlight", () => {
  it("removes the flight before it settles, also on a synchronous throw", async () => {
    const flights = new SingleFlight<number>();
    const f = flights.start("k", async () => 1);
    expect(flights.get("k")).toBe(f);
    expect(await f.settled).toEqual({ ok: true, value: 1 });
    expect(flights.size).toBe(0);
    const g = flights.start("k", () => {
      throw new Error("sync");
    });
    expect(await g.settled).toMatchObject({ ok: false, error: new Error("sync") });
    expect(flights.size).toBe(0);
  });

  it("a failed flight settles as a plain record: it never rejects, so no follower is handed the leader's error as its own", async () => {
    const flights = new SingleFlight<number>();
    const f = flights.start("k", async () => {
      throw new ConnectError("the call was cancelled by its caller", Code.Canceled);
    });
    const joined = await flights.join(f, new AbortController().signal);
    expect(joined.ok).toBe(false);
    expect(ConnectError.from((joined as { error: unknown }).error).code).toBe(Code.Canceled);
  });

  it("a follower whose own signal aborts stops waiting with its own reason; the flight goes on", async () => {
    const flights = new SingleFlight<number>();
    let release!: (n: number) => void;
    const f = flights.start("k", () => new Promise<number>((r) => (release = r)));
    const follower = new AbortController();
    const joined = flights.join(f, follower.signal);
    follower.abort(new Error("mine"));
    await expect(joined).rejects.toThrow("mine");
    expect(flights.get("k")).toBe(f);
    release(3);
    expect(await flights.join(f, new AbortController().signal)).toEqual({ ok: true, value: 3 });
  });

  it("a follower that already gave up is refused at once", async () => {
    const flights = new SingleFlight<number>();
    const f = flights.start("k", () => new Promise<number>(() => undefined));
    const gone = new AbortController();
    gone.abort(new Error("gone"));
    await expect(flights.join(f, gone.signal)).rejects.toThrow("gone");
  });
});

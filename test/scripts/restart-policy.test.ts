import { describe, expect, it } from "vitest";
import { RestartPolicy } from "../../scripts/restart-policy.js";

const options = { initialDelayMs: 500, maxDelayMs: 10_000, maxCrashes: 5, windowMs: 60_000 };

describe("RestartPolicy", () => {
  it("restarts after 0.5 s, doubling each time up to 10 s", () => {
    const policy = new RestartPolicy({ ...options, maxCrashes: 100 });
    const delays = Array.from({ length: 8 }, (_, i) => policy.crashed(i));
    expect(delays.map((d) => (d.restart ? d.delayMs : null))).toEqual([500, 1000, 2000, 4000, 8000, 10_000, 10_000, 10_000]);
  });

  it("gives up at the 5th crash within a minute, not at the 4th", () => {
    const policy = new RestartPolicy(options);
    const decisions = [0, 1000, 2000, 3000, 4000].map((t) => policy.crashed(t));
    expect(decisions.map((d) => d.restart)).toEqual([true, true, true, true, false]);
    expect(decisions[4]!.crashesInWindow).toBe(5);
  });

  it("forgets crashes older than the window, and a worker up for a whole window starts over at 0.5 s", () => {
    const policy = new RestartPolicy(options);
    for (const t of [0, 1000, 2000, 3000]) policy.crashed(t);
    // The 5th crash, but 4 of the earlier ones are just out of the window.
    const later = policy.crashed(63_000);
    expect(later).toEqual({ restart: true, delayMs: 500, crashesInWindow: 1 });
    // Crashes just inside the window still count.
    const policy2 = new RestartPolicy(options);
    for (const t of [0, 1000, 2000, 3000]) policy2.crashed(t);
    expect(policy2.crashed(59_999).restart).toBe(false);
  });
});

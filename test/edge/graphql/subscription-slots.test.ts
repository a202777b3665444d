import { Code } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { GatewayError } from "../../../edge/errors.js";
import { parseGraphqlConfig } from "../../../edge/graphql/config.js";
import { createSubscriptionSlots } from "../../../edge/graphql/subscription-slots.js";

function refusal(fn: () => unknown): GatewayError {
  try {
    fn();
  } catch (error) {
    return error as GatewayError;
  }
  throw new Error("expected a refusal");
}

describe("subscription slots", () => {
  it("hold at most perCaller per principal, free a slot on release (once), and bound the total", () => {
    const slots = createSubscriptionSlots({ perCaller: 2, total: 3 });
    const a1 = slots.take("a");
    slots.take("a");
    const full = refusal(() => slots.take("a"));
    expect(full.code).toBe(Code.ResourceExhausted);
    expect(full.message).toMatch(/already has 2 live subscriptions.*GRAPHQL_MAX_SUBSCRIPTIONS_PER_CALLER/);
    a1();
    a1(); // a second release frees nothing more
    slots.take("a");
    expect(refusal(() => slots.take("a")).code).toBe(Code.ResourceExhausted);
    slots.take("b");
    const total = refusal(() => slots.take("c"));
    expect(total.message).toMatch(/GRAPHQL_MAX_SUBSCRIPTIONS\)/);
  });

  it("reads its bounds from GRAPHQL_MAX_SUBSCRIPTIONS_PER_CALLER and GRAPHQL_MAX_SUBSCRIPTIONS", () => {
    expect(parseGraphqlConfig({})).toMatchObject({ maxSubscriptionsPerCaller: 10, maxSubscriptions: 1000 });
    expect(parseGraphqlConfig({ GRAPHQL_MAX_SUBSCRIPTIONS_PER_CALLER: "3", GRAPHQL_MAX_SUBSCRIPTIONS: "7" })).toMatchObject({
      maxSubscriptionsPerCaller: 3,
      maxSubscriptions: 7,
    });
    expect(() => parseGraphqlConfig({ GRAPHQL_MAX_SUBSCRIPTIONS_PER_CALLER: "0" })).toThrow(/GRAPHQL_MAX_SUBSCRIPTIONS_PER_CALLER/);
  });
});

// A bound on live GraphQL subscriptions. Each one holds a stream, a timer
// and a worker call per interval for as long as the client stays, so
// without a bound a few thousand cheap requests add hundreds of MiB. Every
// subscription takes a slot for its lifetime: at most
// GRAPHQL_MAX_SUBSCRIPTIONS_PER_CALLER per principal and
// GRAPHQL_MAX_SUBSCRIPTIONS in all, per isolate (the memory being protected
// is the isolate's). Past either, a new subscription is refused with
// RESOURCE_EXHAUSTED and a message saying which bound to respect.
import { Code } from "@connectrpc/connect";
import { GatewayError } from "../errors.js";

export interface SubscriptionSlots {
  /** Takes a slot for `principal`; returns its release (safe to call more than once). Throws `resource_exhausted` when full. */
  take(principal: string): () => void;
}

export function createSubscriptionSlots(limits: { readonly perCaller: number; readonly total: number }): SubscriptionSlots {
  const held = new Map<string, number>();
  let total = 0;
  return {
    take(principal) {
      const mine = held.get(principal) ?? 0;
      if (mine >= limits.perCaller) {
        throw new GatewayError(
          Code.ResourceExhausted,
          `this caller already has ${mine} live subscriptions, the most allowed (GRAPHQL_MAX_SUBSCRIPTIONS_PER_CALLER); close one before opening another`,
        );
      }
      if (total >= limits.total) {
        throw new GatewayError(Code.ResourceExhausted, "the gateway holds as many live subscriptions as it allows (GRAPHQL_MAX_SUBSCRIPTIONS); retry later");
      }
      held.set(principal, mine + 1);
      total += 1;
      let released = false;
      return () => {
        if (released) return;
        released = true;
        total -= 1;
        const left = (held.get(principal) ?? 1) - 1;
        if (left > 0) held.set(principal, left);
        else held.delete(principal);
      };
    },
  };
}

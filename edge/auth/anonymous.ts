// Placeholder until API keys and JWT land: every caller is anonymous, keyed
// by client IP, on the "default" plan, allowed every model.
import type { Authenticator, Principal } from "./types.js";

export function anonymousOnly(): Authenticator {
  return {
    async authenticate(ctx): Promise<Principal> {
      const ip = ctx.scope.client.ip;
      return { id: `ip:${ip}`, kind: "anonymous", tenant: "anonymous", plan: "default" };
    },
    authorize() {},
  };
}

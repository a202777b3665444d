// Builds the isolate's Authenticator from the parsed config: the API key
// store when Redis is configured, the JWT verifier when JWT is.
import type { EdgeConfig } from "../config.js";
import { log } from "../log.js";
import { redisClient } from "../redis/client.js";
import { createAuthenticator } from "./authenticator.js";
import { createJwtVerifier } from "./jwt.js";
import { createKeyStore } from "./key-store.js";
import { createMissLimiter } from "./miss-limit.js";
import type { Authenticator } from "./types.js";

export function createEdgeAuthenticator(config: Pick<EdgeConfig, "auth" | "plans" | "redis" | "environment">): Authenticator {
  const { auth, redis } = config;
  if (auth.anonymousPlan !== null) {
    // Said once per isolate so nobody runs an open edge without noticing.
    log("warn", `anonymous access is ON under plan "${auth.anonymousPlan}" (limited per client IP); unset AUTH_ANONYMOUS_PLAN to require credentials`);
  }
  return createAuthenticator({
    config: auth,
    plans: config.plans,
    keyStore: redis
      ? createKeyStore({
          redis: redisClient(redis),
          ttlMs: auth.apiKeyCacheTtlMs,
          timeoutMs: redis.timeoutMs,
          misses: createMissLimiter(auth.apiKeyMissesPerMin),
        })
      : null,
    jwt: auth.jwt ? createJwtVerifier(auth.jwt) : null,
  });
}

// Rate limits on @upstash/ratelimit token buckets (see README "Rate limits"):
//   requests bucket  "<plan>:req:<principal>"          quota plan.requests / window
//   cost bucket      "<plan>:cost:<principal>|<model>" quota plan.cost (or per_model) / window
// Buckets refill smoothly (a small step every interval, not all at once per
// window) and hold at most one window's quota, so a client may burst one
// quota and then gets quota/window on average.
//
// Round trips: a request costs one Redis round trip: both buckets' scripts
// and the penalty check travel in one pipeline (CommandBatch). A call can
// also be charged in two halves (the request, then `countRequest: false`
// for the cost): the pipeline does that when the model's cost is not known
// without a worker call, so the request is charged before that call. Extra trips
// happen only on a denial (the strike script, refunds in the background)
// and once per isolate when Redis has not cached a script yet (NOSCRIPT ->
// EVAL). Callers under a block are answered from isolate memory: no trip.
//
// Denials are free: when one bucket admits and the other (or the penalty)
// refuses, the admitted bucket is refunded in the background, so refused
// requests never eat into the quota.
//
// Failure: a Redis error or an answer slower than REDIS_TIMEOUT_MS never
// becomes a 500: RATE_LIMIT_FAILURE_MODE=open admits, =closed answers 503
// `unavailable` with Retry-After: 1; either way it is logged at most once
// a minute. (The library's own timeout would *admit* after 5 s, so it is
// off and the timeout is ours.)
import { Code } from "@connectrpc/connect";
import { Ratelimit, type Duration } from "@upstash/ratelimit";
import type { Redis } from "@upstash/redis/cloudflare";
import type { Principal } from "../auth/types.js";
import { GatewayError } from "../errors.js";
import { log } from "../log.js";
import type { RequestContext } from "../pipeline/context.js";
import { costQuota, type Plan, type Plans } from "../plans/plans.js";
import { withTimeout } from "../redis/client.js";
import { CommandBatch, scriptFacade } from "./batch.js";
import type { RateLimitConfig } from "./config.js";
import { formatPolicy, formatRemaining, retryAfterSeconds, type RemainingItem } from "./headers.js";
import { penaltySchedule, STRIKE_SCRIPT } from "./penalty.js";
import type { RateLimiter } from "./types.js";

/** What limit() resolves to (the package does not export the type by name). */
type RatelimitResponse = Awaited<ReturnType<Ratelimit["limit"]>>;

const PREFIX = "rl";
const FAILURE_LOG_INTERVAL_MS = 60_000;
const MAX_LOCAL_BLOCKS = 10_000;

export interface BucketShape {
  readonly maxTokens: number;
  readonly intervalMs: number;
  readonly refillRate: number;
}

/**
 * Token bucket for `quota` per `windowS`: refill every intervalMs (at most
 * 1 s, at least 1 ms) by quota × interval / window, so the long-run rate is
 * exactly quota per window whatever the rounding.
 */
export function bucketShape(quota: number, windowS: number): BucketShape {
  const windowMs = windowS * 1000;
  const intervalMs = Math.min(1000, Math.max(1, Math.ceil(windowMs / quota)));
  return { maxTokens: quota, intervalMs, refillRate: (quota * intervalMs) / windowMs };
}

/** Ms until `needed` tokens are back when the bucket is empty and the next refill is at `reset`. */
export function refillWaitMs(shape: BucketShape, needed: number, reset: number, now: number): number {
  const steps = Math.max(1, Math.ceil(needed / shape.refillRate));
  return Math.max(0, reset - now) + (steps - 1) * shape.intervalMs;
}

export interface RateLimiterOptions {
  readonly plans: Plans;
  readonly config: RateLimitConfig;
  /** null: no Redis configured; limits are off (logged once). */
  readonly redis: Pick<Redis, "pipeline"> | null;
  readonly timeoutMs: number;
  readonly now?: () => number;
}

type Denial = { readonly bucket: "requests" | "cost" | "penalty"; readonly retryMs: number };
type Verdict = { reqResult: RatelimitResponse | null; costResult: RatelimitResponse | null; blockMs: number | null };

const reqId = (plan: Plan, principal: Principal) => `${plan.name}:req:${principal.id}`;
const costId = (plan: Plan, principal: Principal, model: string) => `${plan.name}:cost:${principal.id}|${model}`;

export function createRateLimiter(options: RateLimiterOptions): RateLimiter {
  const { plans, config, redis, timeoutMs } = options;
  const now = options.now ?? Date.now;
  const schedule = penaltySchedule(config.penaltyBaseS, config.penaltyMaxS);
  const penaltyArgs = [config.penaltyDecayS * 1000, ...schedule];
  let current: CommandBatch | null = null;
  const facade = redis ? scriptFacade(redis, () => current) : null;
  const limiters = new Map<string, Ratelimit>();
  /** "p:<principal>" (whole principal: requests bucket, penalty) or "c:<principal>|<model>" -> blocked until (epoch ms). */
  const blocks = new Map<string, { until: number; bucket: Denial["bucket"] }>();
  let warnedNoRedis = false;
  let lastFailureLog = -Infinity;

  function limiterFor(shape: BucketShape): Ratelimit {
    const key = `${shape.maxTokens}/${shape.intervalMs}`;
    let limiter = limiters.get(key);
    if (limiter === undefined) {
      limiter = new Ratelimit({
        redis: facade as unknown as ConstructorParameters<typeof Ratelimit>[0]["redis"],
        limiter: Ratelimit.tokenBucket(shape.refillRate, `${shape.intervalMs} ms` as Duration, shape.maxTokens),
        prefix: PREFIX,
        // Our own isolate cache (blocks) covers both buckets and the penalty;
        // analytics would add a round trip per request; the library timeout
        // would admit after it fires, which fail-closed cannot allow.
        ephemeralCache: false,
        analytics: false,
        timeout: 0,
        enableProtection: false,
        enableTelemetry: false,
      });
      limiters.set(key, limiter);
    }
    return limiter;
  }

  function blockLocally(key: string, until: number, bucket: Denial["bucket"]): void {
    const existing = blocks.get(key);
    if (existing && existing.until >= until) return;
    if (blocks.size >= MAX_LOCAL_BLOCKS) {
      const t = now();
      for (const [k, v] of blocks) if (v.until <= t) blocks.delete(k);
      if (blocks.size >= MAX_LOCAL_BLOCKS) blocks.delete(blocks.keys().next().value as string);
    }
    blocks.set(key, { until, bucket });
  }

  function localDenial(keys: readonly string[], t: number): Denial | null {
    let worst: Denial | null = null;
    for (const key of keys) {
      const block = blocks.get(key);
      if (block === undefined) continue;
      if (block.until <= t) {
        blocks.delete(key);
        continue;
      }
      if (worst === null || block.until - t > worst.retryMs) worst = { bucket: block.bucket, retryMs: block.until - t };
    }
    return worst;
  }

  function tooMany(plan: Plan, denial: Denial, headers: Headers): GatewayError {
    const retry = retryAfterSeconds(denial.retryMs);
    const why = denial.bucket === "penalty" ? "repeated overuse" : denial.bucket;
    const extra: Record<string, string> = { "retry-after": String(retry) };
    headers.forEach((value, name) => {
      if (name.startsWith("ratelimit")) extra[name] = value;
    });
    headers.set("retry-after", String(retry));
    return new GatewayError(Code.ResourceExhausted, `rate limit exceeded for plan '${plan.name}' (${why}): retry after ${retry} s`, {
      headers: extra,
    });
  }

  function onFailure(error: unknown, principal: Principal): void {
    const t = now();
    if (t - lastFailureLog >= FAILURE_LOG_INTERVAL_MS) {
      lastFailureLog = t;
      log("warn", `rate limiter cannot reach Redis; failing ${config.failureMode}`, { principal: principal.id, error: brief(error) });
    }
    if (config.failureMode === "closed") {
      throw new GatewayError(Code.Unavailable, "rate limiting is unavailable right now; retry shortly", {
        headers: { "retry-after": "1" },
      });
    }
  }

  return {
    async admit(principal, request, ctx: RequestContext) {
      const plan = plans.get(principal.plan);
      if (plan === undefined) throw new GatewayError(Code.PermissionDenied, `plan "${principal.plan}" is not offered by this gateway`);
      const cost = Math.max(0, request.cost);
      const countRequest = request.countRequest ?? true;
      const reqShape = bucketShape(plan.requests, plan.windowS);
      const costLimit = costQuota(plan, request.model);
      const costShape = bucketShape(costLimit, plan.windowS);
      const headers = ctx.scope.responseHeaders;
      headers.set(
        "ratelimit-policy",
        formatPolicy([
          { name: "requests", quota: plan.requests, windowS: plan.windowS },
          { name: "cost", quota: costLimit, windowS: plan.windowS },
        ]),
      );
      if (cost > costLimit) {
        // Could never pass, so no retry hint would be honest: the client must split the batch.
        throw new GatewayError(
          Code.InvalidArgument,
          `request costs ${cost} units but plan '${plan.name}' allows at most ${costLimit} per ${plan.windowS} s for model '${request.model}'; send smaller batches`,
        );
      }
      if (redis === null || facade === null) {
        if (!warnedNoRedis) {
          warnedNoRedis = true;
          log("warn", "rate limiting is off: no Redis configured (UPSTASH_REDIS_REST_URL/TOKEN)");
        }
        return;
      }
      if (!countRequest && cost === 0) return;

      const principalKey = `p:${principal.id}`;
      const costKey = `c:${principal.id}|${request.model}`;
      const local = localDenial(cost > 0 ? [principalKey, costKey] : [principalKey], now());
      if (local) {
        headers.set("ratelimit", formatRemaining([{ name: local.bucket === "cost" ? "cost" : "requests", remaining: 0, resetS: retryAfterSeconds(local.retryMs) }]));
        if (!countRequest) refundRequest(plan, principal, ctx);
        throw tooMany(plan, local, headers);
      }

      const verdict = await spend(plan, principal, request.model, cost, countRequest);
      if ("failed" in verdict) {
        onFailure(verdict.failed, principal);
        return;
      }
      const t = now();
      let { reqResult, costResult } = verdict;
      const { blockMs } = verdict;
      // A refused request is refunded below; report the refunded figures.
      const refused = (blockMs !== null && blockMs > 0) || (reqResult !== null && !reqResult.success) || (costResult !== null && !costResult.success);
      if (refused && reqResult?.success) reqResult = { ...reqResult, remaining: Math.min(reqShape.maxTokens, reqResult.remaining + 1) };
      if (refused && costResult?.success) costResult = { ...costResult, remaining: Math.min(costShape.maxTokens, costResult.remaining + cost) };
      const remaining: RemainingItem[] = [];
      if (reqResult) remaining.push(remainingItem("requests", reqShape, reqResult, 1, t));
      if (costResult) remaining.push(remainingItem("cost", costShape, costResult, cost, t));
      // A cost-only charge follows the request's own requests charge: keep its item first.
      const earlier = countRequest ? null : headers.get("ratelimit");
      headers.set("ratelimit", [earlier, formatRemaining(remaining)].filter((v) => v).join(", "));

      let denial: Denial | null = null;
      if (blockMs !== null && blockMs > 0) {
        denial = { bucket: "penalty", retryMs: blockMs };
        blockLocally(principalKey, t + blockMs, "penalty");
      } else if (reqResult !== null && !reqResult.success) {
        denial = { bucket: "requests", retryMs: refillWaitMs(reqShape, 1, reqResult.reset, t) };
        blockLocally(principalKey, t + denial.retryMs, "requests");
      } else if (costResult && !costResult.success) {
        denial = { bucket: "cost", retryMs: refillWaitMs(costShape, cost, costResult.reset, t) };
        blockLocally(costKey, t + denial.retryMs, "cost");
      }
      if (denial === null) return;

      // Refund what the refused request took from the other bucket (or, for
      // a cost-only charge, the request its first charge took).
      if (reqResult?.success || !countRequest) refundRequest(plan, principal, ctx);
      if (costResult?.success) ctx.scope.waitUntil(limiterFor(costShape).limit(costId(plan, principal, request.model), { rate: -cost }).catch(() => undefined));

      if (denial.bucket !== "penalty" && schedule.length > 0) {
        denial = await strike(principal, denial, t);
        if (denial.bucket === "penalty") blockLocally(principalKey, t + denial.retryMs, "penalty");
      }
      throw tooMany(plan, denial, headers);
    },
  };

  /**
   * One round trip: the requests bucket (when counted), the cost bucket (when
   * cost > 0) and the penalty check; `failed` when Redis failed or was too slow.
   */
  async function spend(plan: Plan, principal: Principal, model: string, cost: number, countRequest: boolean): Promise<Verdict | { failed: unknown }> {
    const batch = new CommandBatch(redis!);
    // Everything below up to `current = null` runs synchronously: each
    // limit() reaches the facade's evalsha before its first await, so all
    // commands land in this batch and leave as one pipeline.
    current = batch;
    let pending: Promise<[RatelimitResponse | null, RatelimitResponse | null, number | null]>;
    try {
      pending = Promise.all([
        countRequest ? limiterFor(bucketShape(plan.requests, plan.windowS)).limit(reqId(plan, principal)) : Promise.resolve(null),
        cost > 0 ? limiterFor(bucketShape(costQuota(plan, model), plan.windowS)).limit(costId(plan, principal, model), { rate: cost }) : Promise.resolve(null),
        schedule.length > 0 ? batch.run<number>((p) => p.pttl(`${PREFIX}:block:${principal.id}`)) : Promise.resolve(null),
      ]);
    } finally {
      current = null;
    }
    try {
      const [reqResult, costResult, blockMs] = await withTimeout(pending, timeoutMs);
      return { reqResult, costResult, blockMs };
    } catch (error) {
      pending.catch(() => undefined);
      return { failed: error };
    }
  }

  function refundRequest(plan: Plan, principal: Principal, ctx: RequestContext): void {
    const shape = bucketShape(plan.requests, plan.windowS);
    ctx.scope.waitUntil(limiterFor(shape).limit(reqId(plan, principal), { rate: -1 }).catch(() => undefined));
  }

  /** Records a strike (one more round trip, denials only); the longer of bucket wait and block wins. */
  async function strike(principal: Principal, denial: Denial, t: number): Promise<Denial> {
    try {
      const batch = new CommandBatch(redis!);
      const [, blockMs] = await withTimeout(
        batch.run<[number, number]>((p) =>
          p.eval(STRIKE_SCRIPT, [`${PREFIX}:strikes:${principal.id}`, `${PREFIX}:block:${principal.id}`], penaltyArgs),
        ),
        timeoutMs,
      );
      return blockMs > denial.retryMs ? { bucket: "penalty", retryMs: blockMs } : denial;
    } catch (error) {
      onFailureLogOnly(error, t);
      return denial;
    }
  }

  function onFailureLogOnly(error: unknown, t: number): void {
    if (t - lastFailureLog < FAILURE_LOG_INTERVAL_MS) return;
    lastFailureLog = t;
    log("warn", "rate limiter could not record a penalty strike", { error: brief(error) });
  }
}

/** Upstash errors quote the whole failed pipeline; the first 200 characters say enough. */
function brief(error: unknown): string {
  return String(error).slice(0, 200);
}

/** A bucket's RateLimit item: when admitted, seconds until full again; when refused, until `needed` is back. */
function remainingItem(name: "requests" | "cost", shape: BucketShape, result: RatelimitResponse, needed: number, t: number): RemainingItem {
  const resetS = result.success ? fullInS(shape, result.remaining, result.reset, t) : retryAfterSeconds(refillWaitMs(shape, needed, result.reset, t));
  return { name, remaining: result.remaining, resetS };
}

/** Seconds until the bucket is full again after an admitted request. */
function fullInS(shape: BucketShape, remaining: number, reset: number, now: number): number {
  const missing = shape.maxTokens - remaining;
  if (missing <= 0) return 0;
  return Math.ceil(refillWaitMs(shape, missing, reset, now) / 1000);
}

// RateLimit-Policy / RateLimit response headers, after the IETF HTTPAPI
// draft "RateLimit header fields for HTTP" (draft-ietf-httpapi-ratelimit-
// headers, the structured-field revisions): each header is a Structured
// Fields List of Items; the item is a String naming the policy and its
// parameters carry the numbers.
//
//   RateLimit-Policy: "requests";q=60;w=60, "cost";q=600;w=60
//     q = quota (requests, or cost units, per window), w = window in seconds
//   RateLimit: "requests";r=59;t=1, "cost";r=592;t=1
//     r = remaining quota, t = seconds until the bucket is full again
//     (denied: until enough is back for the denied request)
//
// Policy names are fixed ("requests", "cost") so clients can key off them;
// "cost" is per principal and model, so its numbers are the called model's.

export interface PolicyItem {
  readonly name: "requests" | "cost";
  readonly quota: number;
  readonly windowS: number;
}

export interface RemainingItem {
  readonly name: "requests" | "cost";
  readonly remaining: number;
  readonly resetS: number;
}

export function formatPolicy(items: readonly PolicyItem[]): string {
  return items.map((i) => `"${i.name}";q=${int(i.quota)};w=${int(i.windowS)}`).join(", ");
}

export function formatRemaining(items: readonly RemainingItem[]): string {
  return items.map((i) => `"${i.name}";r=${int(i.remaining)};t=${int(i.resetS)}`).join(", ");
}

/** Structured-field integers: non-negative whole numbers here. */
function int(value: number): number {
  return Number.isFinite(value) ? Math.max(0, Math.floor(value)) : 0;
}

/** Retry-After in whole seconds, at least 1 (a 0 would invite an immediate retry). */
export function retryAfterSeconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}

// Plans: what a principal may call and how much. Parsed once per isolate from
// the PLANS variable (JSON). A plan has two quotas per window:
//   requests: calls of any kind, per principal (metadata calls count too);
//   cost:     units of work (batch rows × the model's cost weight), per
//             principal AND per model, optionally overridden per model.
// The same object answers "may this plan use model X" (auth) and "what are
// this plan's buckets" (rate limiting), so the two can never disagree.
import { ConfigError } from "../config-parse.js";

export interface Plan {
  readonly name: string;
  /** Calls per window, per principal. */
  readonly requests: number;
  /** Cost units per window, per principal and model (unless overridden in perModel). */
  readonly cost: number;
  readonly windowS: number;
  /** "*" = every model; otherwise the allow-list. */
  readonly models: "*" | ReadonlySet<string>;
  /** Per-model cost quota overrides (same window). */
  readonly perModel: ReadonlyMap<string, { readonly cost: number }>;
}

export type Plans = ReadonlyMap<string, Plan>;

/**
 * Shipped when PLANS is unset (wrangler.toml carries the same JSON so
 * operators see and edit it): a generous plan for local development and two
 * tiers to start from.
 */
export const DEFAULT_PLANS_JSON =
  '{"development":{"requests":6000,"cost":600000,"window_s":60,"models":"*"},' +
  '"free":{"requests":60,"cost":600,"window_s":60,"models":["iris"]},' +
  '"pro":{"requests":6000,"cost":60000,"window_s":60,"models":"*","per_model":{"mlp-wide":{"cost":20000}}}}';

const NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const MAX_QUOTA = 1e12;

export function parsePlans(value: string | undefined): Plans {
  const text = value?.trim() || DEFAULT_PLANS_JSON;
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`PLANS is not valid JSON (${(error as Error).message})`);
  }
  if (!isObject(raw) || Object.keys(raw).length === 0) {
    throw new ConfigError('PLANS must be a JSON object of plans, e.g. {"free":{"requests":60,"cost":600,"window_s":60,"models":["iris"]}}');
  }
  const plans = new Map<string, Plan>();
  for (const [name, spec] of Object.entries(raw)) {
    if (!NAME.test(name)) throw new ConfigError(`PLANS: plan name "${name}" must be 1-64 letters, digits, "_", "-" or "."`);
    plans.set(name, parsePlan(name, spec));
  }
  return plans;
}

function parsePlan(name: string, spec: unknown): Plan {
  const where = `PLANS.${name}`;
  if (!isObject(spec)) throw new ConfigError(`${where} must be an object with requests, cost, window_s and models`);
  const known = new Set(["requests", "cost", "window_s", "models", "per_model"]);
  for (const key of Object.keys(spec)) {
    if (!known.has(key)) throw new ConfigError(`${where}: unknown field "${key}" (expected ${[...known].join(", ")})`);
  }
  const requests = quota(`${where}.requests`, spec.requests);
  const cost = quota(`${where}.cost`, spec.cost);
  const windowS = quota(`${where}.window_s`, spec.window_s);
  if (windowS > 86_400) throw new ConfigError(`${where}.window_s must be at most 86400 (one day)`);
  let models: "*" | ReadonlySet<string>;
  if (spec.models === "*") models = "*";
  else if (Array.isArray(spec.models) && spec.models.every((m) => typeof m === "string" && m !== "")) {
    models = new Set(spec.models as string[]);
  } else {
    throw new ConfigError(`${where}.models must be "*" or a list of model names`);
  }
  const perModel = new Map<string, { cost: number }>();
  if (spec.per_model !== undefined) {
    if (!isObject(spec.per_model)) throw new ConfigError(`${where}.per_model must be an object like {"mlp-wide":{"cost":100}}`);
    for (const [model, override] of Object.entries(spec.per_model)) {
      const at = `${where}.per_model.${model}`;
      if (!isObject(override) || Object.keys(override).some((k) => k !== "cost")) {
        throw new ConfigError(`${at} must be {"cost": <units per window>}`);
      }
      perModel.set(model, { cost: quota(`${at}.cost`, override.cost) });
    }
  }
  return Object.freeze({ name, requests, cost, windowS, models, perModel });
}

function quota(where: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 1 || value > MAX_QUOTA) {
    throw new ConfigError(`${where} must be a whole number from 1 to ${MAX_QUOTA}, got ${JSON.stringify(value)}`);
  }
  return value;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function planAllows(plan: Plan, model: string): boolean {
  return plan.models === "*" || plan.models.has(model);
}

/** The cost quota that applies to `model` under `plan`. */
export function costQuota(plan: Plan, model: string): number {
  return plan.perModel.get(model)?.cost ?? plan.cost;
}

/** Throws a ConfigError when `name` (from another variable) is not a configured plan. */
export function requirePlan(plans: Plans, name: string, variable: string): Plan {
  const plan = plans.get(name);
  if (plan === undefined) {
    throw new ConfigError(`${variable} names plan "${name}", which PLANS does not define (known: ${[...plans.keys()].join(", ")})`);
  }
  return plan;
}

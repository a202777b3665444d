// The pipeline's order of guards, with the real catalogue and upstream client
// over an in-process fake worker that records every call: what a caller over
// its limit, a stream of unknown model names or a probe loop costs the workers.
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import {
  ModelInferRequestSchema,
  ModelStatisticsRequestSchema,
  ServerReadyRequestSchema,
} from "../../../gen/inference/grpc_service_pb.js";
import type { Authenticator, Principal } from "../../../edge/auth/types.js";
import { createCatalogue } from "../../../edge/catalogue/catalogue.js";
import { parseConfig } from "../../../edge/config.js";
import { GatewayError } from "../../../edge/errors.js";
import { createRequestContext, detachedScope } from "../../../edge/pipeline/context.js";
import { createPipeline } from "../../../edge/pipeline/index.js";
import { planAllows, parsePlans } from "../../../edge/plans/plans.js";
import type { Charge, RateLimiter } from "../../../edge/rate-limit/types.js";
import { createUpstream } from "../../../edge/upstream/client.js";
import { echoImpl, fakeWorkers } from "../support/fake-worker.js";

const plans = parsePlans('{"iris-only":{"requests":10,"cost":100,"window_s":60,"models":["iris"]},"all":{"requests":10,"cost":100,"window_s":60,"models":"*"}}');

/** A worker that knows only iris and reports statistics for two models. */
const worker = {
  ...echoImpl,
  modelMetadata: (req: { name: string }) => {
    if (req.name !== "iris") throw new ConnectError(`unknown model "${req.name}"`, Code.NotFound);
    return echoImpl.modelMetadata!(req as never, undefined as never);
  },
  modelStatistics: () => ({ modelStats: [{ name: "iris", version: "1" }, { name: "mlp-wide", version: "1" }] }),
};

function setup(options: { plan?: string; overLimit?: boolean; vars?: Record<string, string> } = {}) {
  const workers = fakeWorkers({ "http://w1": worker as never });
  const config = parseConfig({ WORKER_URLS: "http://w1", ...options.vars });
  const principal: Principal = { id: "key:t", kind: "api-key", tenant: "t", plan: options.plan ?? "all" };
  const charges: Charge[] = [];
  const auth: Authenticator = {
    authenticate: async () => principal,
    authorize(p, model) {
      if (!this.allows(p, model)) throw new GatewayError(Code.PermissionDenied, "not in plan");
    },
    allows: (p, model) => planAllows(plans.get(p.plan)!, model),
  };
  const rateLimit: RateLimiter = {
    async admit(_p, charge) {
      charges.push(charge);
      if (options.overLimit) throw new GatewayError(Code.ResourceExhausted, "rate limit exceeded", { headers: { "retry-after": "1" } });
    },
  };
  const upstream = createUpstream(config, { fetch: workers.fetch });
  const pipeline = createPipeline(config, upstream, {
    auth,
    rateLimit,
    catalogue: createCatalogue(upstream, config.catalogue),
    cache: { through: (_key: unknown, _ctx: unknown, run: () => Promise<unknown>) => run() } as never,
  });
  const ctx = () => createRequestContext({ scope: detachedScope("t"), maxTimeoutMs: 5000 });
  const calls = (method: string) => workers.calls.filter((c) => c.url.endsWith(`/${method}`)).length;
  return { pipeline, ctx, charges, calls };
}

const inferRequest = (modelName: string) =>
  create(ModelInferRequestSchema, {
    modelName,
    inputs: [{ name: "input", datatype: "FP32", shape: [2n, 4n] }],
    rawInputContents: [new Uint8Array(32)],
  });

async function failure(promise: Promise<unknown>): Promise<GatewayError> {
  try {
    await promise;
  } catch (error) {
    return error as GatewayError;
  }
  throw new Error("expected a failure");
}

describe("pipeline guard order", () => {
  it("a caller over its limit reaches no worker, whatever model names it sends", async () => {
    const { pipeline, ctx, calls } = setup({ overLimit: true });
    for (let i = 0; i < 20; i++) {
      const error = await failure(pipeline.modelInfer(inferRequest(`made-up-${i}`), ctx()));
      expect(error.code).toBe(Code.ResourceExhausted);
    }
    expect(calls("ModelMetadata")).toBe(0);
    expect(calls("ModelInfer")).toBe(0);
  });

  it("charges the request before a model lookup and the cost after it; a known model costs one charge", async () => {
    const { pipeline, ctx, charges, calls } = setup();
    await pipeline.modelInfer(inferRequest("iris"), ctx());
    expect(charges).toEqual([
      { model: "iris", cost: 0 },
      { model: "iris", cost: 2, countRequest: false },
    ]);
    charges.length = 0;
    await pipeline.modelInfer(inferRequest("iris"), ctx());
    expect(charges).toEqual([{ model: "iris", cost: 2 }]);
    expect(calls("ModelMetadata")).toBe(1);
  });

  it("remembers that a model does not exist (CATALOGUE_NEGATIVE_TTL_MS), and each ask is still charged", async () => {
    const { pipeline, ctx, charges, calls } = setup();
    for (let i = 0; i < 5; i++) expect((await failure(pipeline.modelInfer(inferRequest("nope"), ctx()))).code).toBe(Code.NotFound);
    expect(calls("ModelMetadata")).toBe(1);
    expect(charges).toHaveLength(5);
    // Off: every ask is a lookup.
    const off = setup({ vars: { CATALOGUE_NEGATIVE_TTL_MS: "0" } });
    for (let i = 0; i < 3; i++) await failure(off.pipeline.modelInfer(inferRequest("nope"), off.ctx()));
    expect(off.calls("ModelMetadata")).toBe(3);
  });

  it("shares one lookup among the fields of one request, never across requests", async () => {
    const { pipeline, ctx, calls } = setup({ vars: { CATALOGUE_NEGATIVE_TTL_MS: "0" } });
    const one = ctx();
    await Promise.all(Array.from({ length: 10 }, () => failure(pipeline.modelInfer(inferRequest("nope"), one))));
    expect(calls("ModelMetadata")).toBe(1);
    await Promise.all(Array.from({ length: 3 }, () => failure(pipeline.modelInfer(inferRequest("nope"), ctx()))));
    expect(calls("ModelMetadata")).toBe(4);
  });

  it("answers readiness probes from a short-lived reading (READY_CACHE_TTL_MS), not one worker call each", async () => {
    const { pipeline, ctx, calls } = setup({ vars: { READY_CACHE_TTL_MS: "60000" } });
    for (let i = 0; i < 20; i++) expect((await pipeline.serverReady(create(ServerReadyRequestSchema), ctx())).ready).toBe(true);
    await Promise.all(Array.from({ length: 20 }, () => pipeline.serverReady(create(ServerReadyRequestSchema), ctx())));
    expect(calls("ServerReady")).toBe(1);
  });

  it("statistics for every model list only the models the caller's plan covers", async () => {
    const scoped = setup({ plan: "iris-only" });
    const stats = await scoped.pipeline.modelStatistics(create(ModelStatisticsRequestSchema), scoped.ctx());
    expect(stats.modelStats.map((s) => s.name)).toEqual(["iris"]);
    const denied = await failure(scoped.pipeline.modelStatistics(create(ModelStatisticsRequestSchema, { name: "mlp-wide" }), scoped.ctx()));
    expect(denied.code).toBe(Code.PermissionDenied);
    const all = setup({ plan: "all" });
    expect((await all.pipeline.modelStatistics(create(ModelStatisticsRequestSchema), all.ctx())).modelStats.map((s) => s.name)).toEqual([
      "iris",
      "mlp-wide",
    ]);
  });
});

// OIP v2 REST at the edge: each route converts JSON <-> protobuf and calls
// the pipeline; failures are thrown and mapped once by the app's onError.
import { create, toJsonString } from "@bufbuild/protobuf";
import { Hono, type Context } from "hono";
import {
  ModelMetadataRequestSchema,
  ModelReadyRequestSchema,
  ModelStatisticsRequestSchema,
  ModelStatisticsResponseSchema,
  ServerLiveRequestSchema,
  ServerMetadataRequestSchema,
  ServerReadyRequestSchema,
} from "../../gen/inference/grpc_service_pb.js";
import type { AppEnv } from "../http/types.js";
import { withRequestContext, type RequestContext } from "../pipeline/context.js";
import { readJsonBody } from "./json-body.js";
import { cancelRequestFromJson } from "./json-cancel.js";
import { inferRequestFromJson } from "./json-tensors.js";
import { inferResponseToJson, modelMetadataToJson } from "./json-write.js";

type Ctx = Context<AppEnv>;

function run<T>(c: Ctx, fn: (ctx: RequestContext) => Promise<T>): Promise<T> {
  const { config } = c.var.runtime;
  // OIP REST has no timeout header: REQUEST_TIMEOUT_MS bounds the request,
  // and the Request's signal fires when the client disconnects.
  return withRequestContext({ scope: c.var.scope, maxTimeoutMs: config.requestTimeoutMs, clientSignal: c.req.raw.signal }, fn);
}

const json = (c: Ctx, text: string, status: 200 | 503 = 200) =>
  c.body(text, status, { "content-type": "application/json" });

/** The version segment when present ("" lets the worker pick per its version policy). */
const versionOf = (c: Ctx): string => c.req.param("version") ?? "";
const nameOf = (c: Ctx): string => c.req.param("name") ?? "";

export function restRoutes(): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.get("/v2/health/live", async (c) => {
    const res = await run(c, (ctx) => c.var.runtime.pipeline.serverLive(create(ServerLiveRequestSchema), ctx));
    return json(c, JSON.stringify({ live: res.live }), res.live ? 200 : 503);
  });

  // OIP: 200 when ready, non-200 when not; the body says so either way.
  app.get("/v2/health/ready", async (c) => {
    const res = await run(c, (ctx) => c.var.runtime.pipeline.serverReady(create(ServerReadyRequestSchema), ctx));
    return json(c, JSON.stringify({ ready: res.ready }), res.ready ? 200 : 503);
  });

  app.get("/v2", async (c) => {
    const res = await run(c, (ctx) => c.var.runtime.pipeline.serverMetadata(create(ServerMetadataRequestSchema), ctx));
    return json(c, JSON.stringify({ name: res.name, version: res.version, extensions: res.extensions }));
  });

  // Triton's statistics extension also answers for every model at once
  // (registered before /v2/models/:name, which would take "stats" as a name).
  app.get("/v2/models/stats", async (c) => {
    const res = await run(c, (ctx) => c.var.runtime.pipeline.modelStatistics(create(ModelStatisticsRequestSchema), ctx));
    return json(c, toJsonString(ModelStatisticsResponseSchema, res, { useProtoFieldName: true }));
  });

  // Gateway addition: cancel calls in flight by the "id" they were sent with.
  app.post("/v2/models/:name/cancel", async (c) => {
    const request = cancelRequestFromJson(await readJsonBody(c.req.raw), nameOf(c));
    const res = await run(c, (ctx) => c.var.runtime.pipeline.modelInferCancel(request, ctx));
    return json(c, JSON.stringify({ model_name: request.modelName, id: request.id, cancelled: res.cancelled }));
  });

  for (const base of ["/v2/models/:name", "/v2/models/:name/versions/:version"]) {
    app.get(base, async (c) => {
      const request = create(ModelMetadataRequestSchema, { name: nameOf(c), version: versionOf(c) });
      const res = await run(c, (ctx) => c.var.runtime.pipeline.modelMetadata(request, ctx));
      return json(c, modelMetadataToJson(res));
    });

    app.get(`${base}/ready`, async (c) => {
      const request = create(ModelReadyRequestSchema, { name: nameOf(c), version: versionOf(c) });
      const res = await run(c, (ctx) => c.var.runtime.pipeline.modelReady(request, ctx));
      return json(c, JSON.stringify({ ready: res.ready }), res.ready ? 200 : 503);
    });

    app.get(`${base}/stats`, async (c) => {
      const request = create(ModelStatisticsRequestSchema, { name: nameOf(c), version: versionOf(c) });
      const res = await run(c, (ctx) => c.var.runtime.pipeline.modelStatistics(request, ctx));
      return json(c, toJsonString(ModelStatisticsResponseSchema, res, { useProtoFieldName: true }));
    });

    app.post(`${base}/infer`, async (c) => {
      const { pipeline, config } = c.var.runtime;
      const body = await readJsonBody(c.req.raw);
      const request = inferRequestFromJson(
        body,
        { modelName: nameOf(c), modelVersion: versionOf(c) },
        config.maxTensorElements,
      );
      const res = await run(c, (ctx) => pipeline.modelInfer(request, ctx));
      return json(c, inferResponseToJson(res));
    });
  }

  return app;
}

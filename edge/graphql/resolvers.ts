// Resolvers: arguments -> generated protobuf request -> pipeline -> GraphQL
// objects. Every call goes through `gateway.guard`, so a failing field
// becomes a field error with extensions.code while its siblings resolve.
import { create } from "@bufbuild/protobuf";
import { toNumbers } from "../../common/oip/index.js";
import {
  ModelInferCancelRequestSchema,
  ModelReadyRequestSchema,
  ModelStatisticsRequestSchema,
  ServerLiveRequestSchema,
  ServerMetadataRequestSchema,
  ServerReadyRequestSchema,
  type InferParameter,
  type ModelMetadataResponse,
  type ModelStatistics as ModelStatisticsMessage,
  type StatisticDuration,
} from "../../gen/inference/grpc_service_pb.js";
import { modelInfo } from "../catalogue/catalogue.js";
import { invalidArgument } from "../errors.js";
import { withRequestContext } from "../pipeline/context.js";
import { metadataKey, type GatewayContext } from "./context.js";
import { toGraphQLError } from "./errors.js";
import { Repeater } from "./yoga.js";
import { Long, Parameters, TensorData, parametersToPlain } from "./scalars.js";
import { inferRequestFromArgs, valuesToJson, type DecodedTensor, type InferArgs, type InferResult } from "./tensors.js";

interface Ctx {
  readonly gateway: GatewayContext;
}

/** A model as a parent object: metadata is loaded (once per request) only by fields that need it. */
interface ModelRef {
  readonly name: string;
  readonly version: string;
}

const meta = (ref: ModelRef, g: GatewayContext): Promise<ModelMetadataResponse> =>
  g.guard(() => g.metadata.load(metadataKey(ref.name, ref.version)));

const stringParam = (params: Readonly<Record<string, InferParameter>>, key: string): string | undefined => {
  const choice = params[key]?.parameterChoice;
  return choice?.case === "stringParam" ? choice.value : undefined;
};

/** Labels the worker publishes as `labels:<output>` metadata parameters (docs/CONTRACTS.md). */
function labelsOf(metadata: ModelMetadataResponse, output: string): string[] | null {
  const text = stringParam(metadata.parameters, `labels:${output}`);
  if (text === undefined) return null;
  try {
    const labels: unknown = JSON.parse(text);
    return Array.isArray(labels) && labels.every((l) => typeof l === "string") ? labels : null;
  } catch {
    return null;
  }
}

const ZERO = { count: 0n, ns: 0n };
const duration = (d: StatisticDuration | undefined) => (d === undefined ? ZERO : { count: d.count, ns: d.ns });

function statistics(s: ModelStatisticsMessage) {
  const stats = s.inferenceStats;
  return {
    name: s.name,
    version: s.version,
    lastInference: s.lastInference,
    inferenceCount: s.inferenceCount,
    executionCount: s.executionCount,
    requestCount: (stats?.success?.count ?? 0n) + (stats?.fail?.count ?? 0n),
    inferenceStats: {
      success: duration(stats?.success),
      fail: duration(stats?.fail),
      queue: duration(stats?.queue),
      computeInput: duration(stats?.computeInput),
      computeInfer: duration(stats?.computeInfer),
      computeOutput: duration(stats?.computeOutput),
    },
    batchStats: s.batchStats.map((b) => ({
      batchSize: b.batchSize,
      computeInput: duration(b.computeInput),
      computeInfer: duration(b.computeInfer),
      computeOutput: duration(b.computeOutput),
    })),
  };
}

function infer(args: InferArgs, g: GatewayContext): Promise<InferResult> {
  return g.guard(async () => g.infer.load(inferRequestFromArgs(args, g.config.maxTensorElements)));
}

type InferFieldArgs = Omit<InferArgs, "model" | "version">;

/** The k best classes per row of a [rows, classes] (or [classes]) output. */
async function top(result: InferResult, args: { k: number; output?: string | null }, g: GatewayContext) {
  const tensor =
    args.output != null
      ? result.outputs.find((o) => o.name === args.output)
      : undefined;
  if (args.output != null && tensor === undefined) throw invalidArgument(`top: the result has no output "${args.output}"`);
  let chosen: DecodedTensor | undefined = tensor;
  let labels: string[] | null = null;
  const metadata = await g.metadata.load(metadataKey(result.modelName, result.modelVersion));
  if (chosen === undefined) {
    chosen = result.outputs.find((o) => labelsOf(metadata, o.name) !== null) ?? result.outputs[0];
    if (chosen === undefined) return [];
  }
  labels = labelsOf(metadata, chosen.name);
  const scores = toNumbers(chosen.datatype, chosen.values);
  if (scores === null) throw invalidArgument(`top: output "${chosen.name}" is ${chosen.datatype}, not numeric`);
  const classes = chosen.shape.at(-1) ?? 1;
  if (!Number.isInteger(args.k) || args.k < 1) throw invalidArgument("top: k must be at least 1");
  const rows = classes === 0 ? 0 : scores.length / classes;
  const out = [];
  for (let row = 0; row < rows; row++) {
    const slice = scores.slice(row * classes, (row + 1) * classes);
    const order = slice.map((score, index) => ({ index, score })).sort((a, b) => b.score - a.score || a.index - b.index);
    out.push({
      row,
      classes: order.slice(0, args.k).map(({ index, score }) => ({ index, score, label: labels?.[index] ?? null })),
    });
  }
  return out;
}

export const resolvers = {
  TensorData,
  Parameters,
  Long,

  Query: {
    health: (_: unknown, __: unknown, { gateway: g }: Ctx) =>
      g.guard(async () => {
        const [live, ready] = await Promise.all([
          g.pipeline.serverLive(create(ServerLiveRequestSchema), g.ctx),
          g.pipeline.serverReady(create(ServerReadyRequestSchema), g.ctx),
        ]);
        return { live: live.live, ready: ready.ready };
      }),
    server: (_: unknown, __: unknown, { gateway: g }: Ctx) =>
      g.guard(() => g.pipeline.serverMetadata(create(ServerMetadataRequestSchema), g.ctx)),
    // OIP has no "list models" RPC; as in Triton, statistics for an empty
    // name cover every loaded model, which names them.
    models: (_: unknown, __: unknown, { gateway: g }: Ctx) =>
      g.guard(async () => {
        const res = await g.pipeline.modelStatistics(create(ModelStatisticsRequestSchema), g.ctx);
        return [...new Set(res.modelStats.map((s) => s.name))].map((name): ModelRef => ({ name, version: "" }));
      }),
    model: async (_: unknown, args: { name: string; version?: string | null }, { gateway: g }: Ctx) => {
      const ref: ModelRef = { name: args.name, version: args.version ?? "" };
      await meta(ref, g); // existence check: unknown models are a NOT_FOUND field error
      return ref;
    },
    infer: (_: unknown, args: InferArgs, { gateway: g }: Ctx) => infer(args, g),
  },

  Model: {
    versions: async (ref: ModelRef, _: unknown, { gateway: g }: Ctx) => (await meta(ref, g)).versions,
    version: async (ref: ModelRef, _: unknown, { gateway: g }: Ctx) => modelInfo(await meta(ref, g), ref.version).version,
    platform: async (ref: ModelRef, _: unknown, { gateway: g }: Ctx) => (await meta(ref, g)).platform,
    inputs: async (ref: ModelRef, _: unknown, { gateway: g }: Ctx) =>
      (await meta(ref, g)).inputs.map((t) => ({ name: t.name, datatype: t.datatype, shape: t.shape.map(Number), labels: null })),
    outputs: async (ref: ModelRef, _: unknown, { gateway: g }: Ctx) => {
      const metadata = await meta(ref, g);
      return metadata.outputs.map((t) => ({
        name: t.name,
        datatype: t.datatype,
        shape: t.shape.map(Number),
        labels: labelsOf(metadata, t.name),
      }));
    },
    ready: (ref: ModelRef, _: unknown, { gateway: g }: Ctx) =>
      g.guard(async () => (await g.pipeline.modelReady(create(ModelReadyRequestSchema, ref), g.ctx)).ready),
    executionProvider: async (ref: ModelRef, _: unknown, { gateway: g }: Ctx) =>
      stringParam((await meta(ref, g)).parameters, "execution_provider") ?? null,
    maxBatchSize: async (ref: ModelRef, _: unknown, { gateway: g }: Ctx) => modelInfo(await meta(ref, g), ref.version).maxBatchSize,
    deterministic: async (ref: ModelRef, _: unknown, { gateway: g }: Ctx) => modelInfo(await meta(ref, g), ref.version).deterministic,
    costWeight: async (ref: ModelRef, _: unknown, { gateway: g }: Ctx) => modelInfo(await meta(ref, g), ref.version).costWeight,
    statistics: (ref: ModelRef, _: unknown, { gateway: g }: Ctx) =>
      g.guard(async () => (await g.pipeline.modelStatistics(create(ModelStatisticsRequestSchema, ref), g.ctx)).modelStats.map(statistics)),
    infer: (ref: ModelRef, args: InferFieldArgs, { gateway: g }: Ctx) => infer({ ...args, model: ref.name, version: ref.version }, g),
  },

  InferResult: {
    id: (r: InferResult) => r.id || null,
    parameters: (r: InferResult) => parametersToPlain(r.parameters),
    output: (r: InferResult, args: { name: string }) => r.outputs.find((o) => o.name === args.name) ?? null,
    top: (r: InferResult, args: { k: number; output?: string | null }, { gateway: g }: Ctx) => g.guard(() => top(r, args, g)),
  },

  Tensor: {
    data: (t: DecodedTensor) => valuesToJson(t.datatype, t.values),
    parameters: (t: DecodedTensor) => parametersToPlain(t.parameters),
  },

  Mutation: {
    cancelInference: (_: unknown, args: { model: string; id: string }, { gateway: g }: Ctx) =>
      g.guard(async () => {
        const request = create(ModelInferCancelRequestSchema, { modelName: args.model, id: args.id });
        return { cancelled: (await g.pipeline.modelInferCancel(request, g.ctx)).cancelled };
      }),
  },

  Subscription: {
    modelStatistics: {
      // The caller is established first: its live subscriptions are bounded.
      subscribe: async (
        _: unknown,
        args: { name?: string | null; version?: string | null; intervalMs: number; limit?: number | null },
        { gateway: g }: Ctx,
      ) => {
        const principal = await g.guard(() => g.pipeline.authenticate(g.ctx));
        return statisticsUpdates(args, g, principal.id);
      },
      resolve: (update: unknown) => update,
    },
  },
};

/**
 * One update now, then one per interval, each a fresh pipeline call with its
 * own deadline (the HTTP request's context ends when the stream starts).
 * Stops after `limit` updates, on the first error (delivered to the client),
 * or when the client goes away: yoga returns the iterator, which stops the
 * repeater and clears the timer, so nothing keeps polling the workers.
 */
function statisticsUpdates(
  args: { name?: string | null; version?: string | null; intervalMs: number; limit?: number | null },
  g: GatewayContext,
  principal: string,
) {
  const interval = Math.max(g.config.graphql.minIntervalMs, Math.min(args.intervalMs, 3_600_000));
  const limit = args.limit ?? null;
  if (limit !== null && limit < 1) throw toGraphQLError(invalidArgument("limit must be at least 1"), g.scope);
  const request = create(ModelStatisticsRequestSchema, { name: args.name ?? "", version: args.version ?? "" });
  let release: () => void;
  try {
    release = g.subscriptions.take(principal);
  } catch (error) {
    throw toGraphQLError(error, g.scope);
  }
  // The slot is freed when the stream ends however it ends, or when the client goes.
  g.clientSignal.addEventListener("abort", release, { once: true });
  return new Repeater<unknown>(async (push, stop) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let sequence = 0;
    let stopped = false;
    const onAbort = () => stop();
    g.clientSignal.addEventListener("abort", onAbort, { once: true });
    const tick = async (): Promise<void> => {
      try {
        const res = await withRequestContext(
          { scope: g.scope, maxTimeoutMs: g.config.requestTimeoutMs, clientSignal: g.clientSignal },
          (ctx) => g.pipeline.modelStatistics(request, ctx),
        );
        if (stopped) return;
        sequence += 1;
        await push({ sequence, at: BigInt(Date.now()), models: res.modelStats.map(statistics) });
        if (limit !== null && sequence >= limit) return void stop();
        if (!stopped) timer = setTimeout(() => void tick(), interval);
      } catch (error) {
        stop(toGraphQLError(error, g.scope));
      }
    };
    void tick();
    await stop;
    stopped = true;
    if (timer !== undefined) clearTimeout(timer);
    g.clientSignal.removeEventListener("abort", onAbort);
    g.clientSignal.removeEventListener("abort", release);
    release();
  });
}

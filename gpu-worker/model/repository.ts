// The model repository: MODEL_REPOSITORY/<name>/config.json plus numeric
// version folders holding model.onnx. Versions are chosen by each model's
// version_policy; an empty requested version means the latest loaded one.
import { existsSync } from "node:fs";
import { readFile, readdir } from "node:fs/promises";
import { join } from "node:path";
import { Code, ConnectError } from "@connectrpc/connect";
import type { WorkerConfig } from "../config.js";
import { log, type LogLevel } from "../log.js";
import { WorkerMetrics } from "../metrics/prometheus.js";
import { parseModelConfig, type ExecutionProvider, type ModelConfig, type VersionPolicy } from "./config.js";
import { LoadedModel, type LoadedModelOptions } from "./model.js";
import { InlineRunner, type SessionRunner } from "./session-runner.js";
import { ThreadedRunner } from "./session-thread.js";

export interface ModelEntry {
  readonly config: ModelConfig;
  /** Selected by version_policy, ascending. */
  readonly versions: readonly { readonly version: string; readonly file: string }[];
}

export function selectVersions(available: readonly number[], policy: VersionPolicy): number[] {
  const sorted = [...available].sort((a, b) => a - b);
  switch (policy.kind) {
    case "latest":
      return sorted.slice(-policy.count);
    case "all":
      return sorted;
    case "specific":
      return sorted.filter((v) => policy.versions.includes(v));
  }
}

/** Reads every config.json and picks the versions to load; throws naming the file on any problem. */
export async function scanRepository(root: string): Promise<ModelEntry[]> {
  if (!existsSync(root)) throw new Error(`model repository ${root} does not exist (set MODEL_REPOSITORY)`);
  const entries: ModelEntry[] = [];
  const folders = (await readdir(root, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name).sort();
  for (const folder of folders) {
    const dir = join(root, folder);
    const configFile = join(dir, "config.json");
    if (!existsSync(configFile)) {
      log.warn(`${dir} has no config.json; skipped`);
      continue;
    }
    let json: unknown;
    try {
      json = JSON.parse(await readFile(configFile, "utf8"));
    } catch (error) {
      throw new Error(`${configFile}: not valid JSON (${error instanceof Error ? error.message : String(error)})`);
    }
    const config = parseModelConfig(json, configFile, folder);
    const available = (await readdir(dir, { withFileTypes: true }))
      .filter((d) => d.isDirectory() && /^\d+$/.test(d.name) && existsSync(join(dir, d.name, "model.onnx")))
      .map((d) => Number(d.name));
    const selected = selectVersions(available, config.versionPolicy);
    if (selected.length === 0) {
      throw new Error(
        `${dir}: no version folder with model.onnx matches version_policy ${JSON.stringify(config.versionPolicy)} (found ${available.join(", ") || "none"})`,
      );
    }
    entries.push({
      config,
      versions: selected.map((v) => ({ version: String(v), file: join(dir, String(v), "model.onnx") })),
    });
  }
  if (entries.length === 0) throw new Error(`model repository ${root} holds no models`);
  return entries;
}

export interface RepositoryOptions extends LoadedModelOptions {
  /** Worker default; a model's execution_providers overrides it. */
  readonly executionProviders: readonly ExecutionProvider[];
  /** SESSION_THREADS: sessions in worker threads (instance_count each) rather than on the main thread. */
  readonly sessionThreads: boolean;
  /** Passed to session threads, which have their own copy of the logger. */
  readonly logLevel: LogLevel;
}

/**
 * One model version's session(s), in threads unless the model's
 * `session_threads` or the worker's SESSION_THREADS says otherwise. In threads, instance_count threads with a
 * session each, so the batcher's instance_count concurrent executions really
 * run side by side. Inline, one session on the main thread, where runs take
 * turns whatever instance_count says.
 */
function openRunner(label: string, file: string, config: ModelConfig, options: RepositoryOptions): Promise<SessionRunner> {
  const providers = config.executionProviders ?? options.executionProviders;
  if (!(config.sessionThreads ?? options.sessionThreads)) return InlineRunner.open(label, file, config, providers);
  return ThreadedRunner.open(label, file, config, providers, { logLevel: options.logLevel, instances: config.instanceCount });
}

export class ModelRepository {
  private constructor(
    private readonly byName: ReadonlyMap<string, readonly LoadedModel[]>,
    /** The registry every loaded model reports into; served at GET /metrics. */
    readonly metrics: WorkerMetrics,
  ) {}

  static async load(root: string, options: RepositoryOptions): Promise<ModelRepository> {
    const entries = await scanRepository(root);
    const byName = new Map<string, LoadedModel[]>();
    try {
      for (const { config, versions } of entries) {
        const loaded: LoadedModel[] = [];
        byName.set(config.name, loaded);
        for (const { version, file } of versions) {
          const label = `${config.name} v${version}`;
          loaded.push(new LoadedModel(config, version, await openRunner(label, file, config, options), options));
        }
      }
    } catch (error) {
      await new ModelRepository(byName, options.metrics).close();
      throw error;
    }
    return new ModelRepository(byName, options.metrics);
  }

  models(): LoadedModel[] {
    return [...this.byName.values()].flat();
  }

  configs(): ModelConfig[] {
    return [...this.byName.values()].map((versions) => versions[0]!.config);
  }

  /** Loaded versions of a model, ascending; empty when unknown. */
  versions(name: string): string[] {
    return (this.byName.get(name) ?? []).map((m) => m.version);
  }

  /** "" resolves to the latest loaded version. */
  resolve(name: string, version: string): LoadedModel {
    const versions = this.byName.get(name);
    if (versions === undefined) throw new ConnectError(`model "${name}" is not in the repository`, Code.NotFound);
    const model = version === "" ? versions.at(-1) : versions.find((m) => m.version === version);
    if (model === undefined) {
      throw new ConnectError(
        `model "${name}" has no loaded version "${version}" (loaded: ${versions.map((m) => m.version).join(", ")})`,
        Code.NotFound,
      );
    }
    return model;
  }

  async close(): Promise<void> {
    await Promise.all(this.models().map((m) => m.close()));
  }
}

/** The repository as the worker configures it: MODEL_REPOSITORY, EXECUTION_PROVIDERS, BATCHING, SESSION_THREADS. */
export function loadRepository(config: WorkerConfig, metrics = new WorkerMetrics()): Promise<ModelRepository> {
  return ModelRepository.load(config.modelRepository, {
    executionProviders: config.executionProviders,
    batching: config.batching,
    sessionThreads: config.sessionThreads,
    logLevel: config.logLevel,
    metrics,
    maxElements: config.maxMessageBytes,
    bytesLimits: { maxBytesElements: config.maxBytesElements, maxBytesLength: config.maxBytesLength },
  });
}

// SESSION_THREADS=on: a model's onnxruntime sessions live in node:worker_threads
// Workers, one session per thread and one thread per instance (instance_count),
// so the main thread keeps serving (new requests, cancellations, health,
// /metrics) while a model runs. onnxruntime-node's run is synchronous on the
// thread that owns the session; here that is the session thread.
//
// Tensors cross with their numeric buffers transferred (see forTransfer).
// A thread that dies fails its in-flight runs with `internal` and is started
// again on the next run, on the provider the model already settled on.
import { extname } from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { Code, ConnectError } from "@connectrpc/connect";
import { log, type LogLevel } from "../log.js";
import type { ExecutionProvider, ModelConfig } from "./config.js";
import { forTransfer, type HostData, type HostReply, type HostRequest } from "./session-messages.js";
import type { SessionRunner } from "./session-runner.js";
import type { Tensor } from "./tensors.js";

const BOOT = new URL("./session-host-boot.mjs", import.meta.url);
/** session-host.ts from sources (tsx), session-host.js once compiled. */
const HOST = new URL(`./session-host${extname(fileURLToPath(import.meta.url))}`, import.meta.url);
/** How long a release may take before the thread is terminated regardless. */
const RELEASE_TIMEOUT_MS = 10_000;

export interface ThreadOptions {
  readonly logLevel: LogLevel;
  /** Threads, each with its own session: the model's instance_count. */
  readonly instances: number;
  /** The module each thread runs; tests substitute a misbehaving host. */
  readonly entry?: URL;
}

interface Pending {
  readonly resolve: (outputs: Tensor[]) => void;
  readonly reject: (error: unknown) => void;
}

const unloaded = (model: string) => new ConnectError(`model "${model}" is unloaded`, Code.Unavailable);

/** One thread holding one session; runs queue inside the thread. */
class SessionThread {
  private worker: Worker | undefined;
  private restarting: Promise<void> | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private released = false;
  provider: ExecutionProvider = "cpu";

  private constructor(private data: HostData) {}

  /** Resolves once the session is loaded; rejects with createSession's error otherwise. */
  static async start(data: HostData): Promise<SessionThread> {
    const thread = new SessionThread(data);
    await thread.spawn();
    // A restarted thread goes straight to the provider that worked, without re-probing.
    thread.data = { ...data, providers: [thread.provider] };
    return thread;
  }

  get inFlight(): number {
    return this.pending.size;
  }

  /** Whether a thread is up (it may have died and not yet been restarted). */
  get alive(): boolean {
    return this.worker !== undefined;
  }

  async run(inputs: readonly Tensor[]): Promise<Tensor[]> {
    const model = this.data.config.name;
    if (this.released) throw unloaded(model);
    if (this.worker === undefined) {
      this.restarting ??= this.spawn().finally(() => (this.restarting = undefined));
      try {
        await this.restarting;
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        throw new ConnectError(`model "${model}": its session thread could not be restarted (${reason})`, Code.Unavailable);
      }
      if (this.released) throw unloaded(model);
    }
    const worker = this.worker;
    // Gone again between its restart and this run: say so rather than wait.
    if (worker === undefined) throw new ConnectError(`model "${model}": its session thread stopped`, Code.Unavailable);
    const id = this.nextId++;
    const { tensors, transfer } = forTransfer(inputs);
    return new Promise<Tensor[]>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      // Keep the process alive while a run is out; an idle thread does not (see idle()).
      worker.ref();
      try {
        worker.postMessage({ type: "run", id, inputs: tensors } satisfies HostRequest, transfer);
      } catch (error) {
        this.settle(id, error);
      }
    });
  }

  /** Releases the session inside the thread, then terminates the thread. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    await this.restarting?.catch(() => undefined);
    const worker = this.worker;
    if (worker === undefined) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, RELEASE_TIMEOUT_MS);
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      worker.once("exit", done);
      worker.on("message", (reply: HostReply) => reply.type === "released" && done());
      worker.ref();
      // Queued behind any run already sent, so those still answer first.
      worker.postMessage({ type: "release" } satisfies HostRequest);
    });
    await worker.terminate();
  }

  private spawn(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const worker = new Worker(BOOT, { workerData: this.data, name: this.data.label });
      let ready = false;
      let crash: Error | undefined;
      worker.on("message", (reply: HostReply) => {
        switch (reply.type) {
          case "ready":
            ready = true;
            this.worker = worker;
            this.provider = reply.provider;
            worker.unref();
            resolve();
            break;
          case "failed":
            reject(new Error(reply.message));
            void worker.terminate();
            break;
          case "result":
            this.settle(reply.id, reply.outputs);
            break;
          case "error":
            this.settle(reply.id, new ConnectError(reply.message, reply.code));
            break;
        }
      });
      // Always listened to: an uncaught error in the thread must not become an
      // unhandled 'error' event (and so a crash) on the main thread.
      worker.on("error", (error) => (crash = error));
      worker.on("messageerror", (error) => {
        crash = error;
        void worker.terminate();
      });
      worker.on("exit", (code) => {
        const reason = crash ? crash.message.split("\n")[0]! : `exit code ${code}`;
        if (!ready) {
          reject(new Error(`${this.data.label}: the session thread stopped before its session was ready (${reason})`));
          return;
        }
        if (this.worker === worker) this.worker = undefined;
        this.lost(reason);
      });
    });
  }

  /** The thread is gone: fail whatever it was running. */
  private lost(reason: string): void {
    const model = this.data.config.name;
    const error = this.released
      ? unloaded(model)
      : new ConnectError(`model "${model}" failed to run: its session thread stopped (${reason})`, Code.Internal);
    if (!this.released) {
      log.error(`${this.data.label}: session thread stopped (${reason}); ${this.pending.size} run(s) failed, a new thread starts on the next run`);
    }
    for (const pending of this.pending.values()) pending.reject(error);
    this.pending.clear();
  }

  private settle(id: number, outcome: Tensor[] | unknown): void {
    const pending = this.pending.get(id);
    if (pending === undefined) return;
    this.pending.delete(id);
    if (Array.isArray(outcome)) pending.resolve(outcome as Tensor[]);
    else pending.reject(outcome);
    this.idle();
  }

  /** An idle thread does not keep the process alive, like an idle pooled socket. */
  private idle(): void {
    if (this.pending.size === 0) this.worker?.unref();
  }
}

/** A model's session threads behind the SessionRunner interface; each run goes to the least busy thread. */
export class ThreadedRunner implements SessionRunner {
  readonly threaded = true;
  private constructor(private readonly threads: readonly SessionThread[]) {}

  get provider(): ExecutionProvider {
    return this.threads[0]!.provider;
  }

  /** Threads up right now: instance_count while loaded, 0 once released. */
  get running(): number {
    return this.threads.filter((t) => t.alive).length;
  }

  /** Probes providers in the first thread; the other instances start straight on the one that worked. */
  static async open(
    label: string,
    file: string,
    config: ModelConfig,
    providers: readonly ExecutionProvider[],
    options: ThreadOptions,
  ): Promise<ThreadedRunner> {
    const data = (name: string, list: readonly ExecutionProvider[]): HostData => ({
      label: name,
      file,
      config,
      providers: list,
      logLevel: options.logLevel,
      entry: (options.entry ?? HOST).href,
    });
    const first = await SessionThread.start(data(label, providers));
    const others = await Promise.allSettled(
      Array.from({ length: options.instances - 1 }, (_, i) => SessionThread.start(data(`${label} instance ${i + 2}`, [first.provider]))),
    );
    const threads = [first, ...others.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []))];
    const failure = others.find((r) => r.status === "rejected");
    if (failure !== undefined) {
      await Promise.all(threads.map((t) => t.release()));
      throw failure.reason;
    }
    return new ThreadedRunner(threads);
  }

  run(inputs: readonly Tensor[]): Promise<Tensor[]> {
    const thread = this.threads.reduce((best, t) => (t.inFlight < best.inFlight ? t : best));
    return thread.run(inputs);
  }

  async release(): Promise<void> {
    await Promise.all(this.threads.map((t) => t.release()));
  }
}

// Session threads (SESSION_THREADS=on) against the inline runner, with real
// onnxruntime on real ONNX files: same answers, a free event loop while a
// model runs, readable errors, and threads that end when released or die.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Datatype, TensorValues } from "../../../common/oip/index.js";
import { parseModelConfig, type ModelConfig } from "../../../gpu-worker/model/config.js";
import { InlineRunner, type SessionRunner } from "../../../gpu-worker/model/session-runner.js";
import { ThreadedRunner } from "../../../gpu-worker/model/session-thread.js";
import type { Tensor } from "../../../gpu-worker/model/tensors.js";
import { datatypeSamples } from "../../support/datatype-samples.js";
import { IRIS_ROWS } from "../../support/iris.js";
import { FIXTURE_MODELS, MODELS } from "../../support/paths.js";

function model(root: string, name: string, overrides: Partial<ModelConfig> = {}) {
  const dir = join(root, name);
  const config = parseModelConfig(JSON.parse(readFileSync(join(dir, "config.json"), "utf8")), `${name}/config.json`, name);
  return { config: { ...config, ...overrides }, file: join(dir, "1/model.onnx") };
}

const open = {
  inline: (m: ReturnType<typeof model>) => InlineRunner.open(m.config.name, m.file, m.config, ["cpu"]),
  threaded: (m: ReturnType<typeof model>, instances = 1) =>
    ThreadedRunner.open(m.config.name, m.file, m.config, ["cpu"], { logLevel: "warn", instances }),
};

/** Two rows of three per datatype, edge values included; fresh arrays each call (a threaded run detaches them). */
const echoInputs = (): Tensor[] => {
  const samples = datatypeSamples();
  return Object.entries(samples).map(([datatype, values]) => ({
    name: datatype.toLowerCase(),
    datatype: datatype as Datatype,
    shape: [2, 3],
    values,
  }));
};

const irisInputs = (rows: number[][] = IRIS_ROWS): Tensor[] => [
  { name: "input", datatype: "FP32", shape: [rows.length, 4], values: new Float32Array(rows.flat()) },
];

/** setInterval ticks while `work` is pending: how much the event loop turned meanwhile. */
async function ticksDuring<T>(work: () => Promise<T>): Promise<{ ticks: number; result: T }> {
  let ticks = 0;
  const timer = setInterval(() => ticks++, 10);
  try {
    const result = await work();
    return { ticks, result };
  } finally {
    clearInterval(timer);
  }
}

async function failure(promise: Promise<unknown>): Promise<ConnectError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConnectError);
  return error as ConnectError;
}

describe("session threads give the inline runner's answers", () => {
  const runners: SessionRunner[] = [];
  afterAll(() => Promise.all(runners.map((r) => r.release())));
  const keep = <T extends SessionRunner>(r: T) => (runners.push(r), r);

  it("iris: same probabilities and labels, on the same provider", async () => {
    const iris = model(MODELS, "iris");
    const inline = keep(await open.inline(iris));
    const threaded = keep(await open.threaded(iris));
    expect(threaded.provider).toBe("cpu");
    expect(threaded.provider).toBe(inline.provider);
    const expected = await inline.run(irisInputs());
    const actual = await threaded.run(irisInputs());
    expect(actual).toEqual(expected);
    expect(actual.map((t) => [t.name, t.datatype, t.values.constructor])).toEqual([
      ["probabilities", "FP32", Float32Array],
      ["label", "INT64", BigInt64Array],
    ]);
  });

  it("echo: every datatype (BYTES and FP16 included) round-trips identically", async () => {
    const echo = model(FIXTURE_MODELS, "echo");
    const inline = keep(await open.inline(echo));
    const threaded = keep(await open.threaded(echo));
    const expected = await inline.run(echoInputs());
    const actual = await threaded.run(echoInputs());
    expect(actual).toEqual(expected);
    // And both equal the input: the fixture is Identity per datatype.
    expect(actual.map((t) => t.values)).toEqual(echoInputs().map((t) => t.values));
  });

  it("moves input buffers to the thread instead of copying them", async () => {
    const threaded = keep(await open.threaded(model(MODELS, "iris")));
    const inputs = irisInputs();
    const values = inputs[0]!.values as Float32Array;
    await threaded.run(inputs);
    expect(values.byteLength).toBe(0); // detached: transferred
  });

  it("copies a view into a larger buffer rather than detaching memory the tensor does not own", async () => {
    const threaded = keep(await open.threaded(model(MODELS, "iris")));
    const backing = new Float32Array([9, 9, 9, ...IRIS_ROWS.flat(), 9]);
    const view = backing.subarray(3, 3 + 12);
    const [probabilities] = await threaded.run([{ name: "input", datatype: "FP32", shape: [3, 4], values: view }]);
    expect(backing.byteLength).toBe(16 * 4);
    expect(Array.from(view)).toEqual(Array.from(new Float32Array(IRIS_ROWS.flat())));
    expect(probabilities!.values).toEqual((await threaded.run(irisInputs()))[0]!.values);
  });
});

describe("the event loop while a model runs (slow fixture, about 300 ms)", () => {
  const slow = model(FIXTURE_MODELS, "slow");
  const input = (): Tensor[] => [{ name: "x", datatype: "FP32", shape: [1, 8], values: Float32Array.from({ length: 8 }, (_, i) => i) }];
  let inline: InlineRunner;
  let threaded: ThreadedRunner;

  beforeAll(async () => {
    inline = await open.inline(slow);
    threaded = await open.threaded(slow);
    // Warm both, so first-run allocation does not count.
    await inline.run(input());
    await threaded.run(input());
  });
  afterAll(async () => {
    await inline.release();
    await threaded.release();
  });

  it("keeps turning during a threaded run", async () => {
    const { ticks, result } = await ticksDuring(() => threaded.run(input()));
    expect(result[0]!.shape).toEqual([1, 8]);
    // A 10 ms interval over a ~300 ms run: many ticks, even on a busy machine.
    expect(ticks).toBeGreaterThanOrEqual(5);
  });

  it("stands still during an inline run (the behaviour session threads remove)", async () => {
    const { ticks } = await ticksDuring(() => inline.run(input()));
    expect(ticks).toBeLessThanOrEqual(1);
  });

  it("gives the same answer either way", async () => {
    expect(await threaded.run(input())).toEqual(await inline.run(input()));
  });
});

describe("errors from a session thread", () => {
  it("a failed run reads exactly as inline: model name and onnxruntime's first line, code internal", async () => {
    const iris = model(MODELS, "iris");
    const inline = await open.inline(iris);
    const threaded = await open.threaded(iris);
    try {
      const wrongWidth = () => irisInputs([[1, 2, 3, 4, 5]]).map((t) => ({ ...t, shape: [1, 5] }));
      const expected = await failure(inline.run(wrongWidth()));
      const actual = await failure(threaded.run(wrongWidth()));
      expect(actual.code).toBe(Code.Internal);
      expect(actual.rawMessage).toMatch(/^model "iris" failed to run: .*dimensions/i);
      expect(actual.rawMessage).toBe(expected.rawMessage);
      // The thread survives a failed run.
      expect((await threaded.run(irisInputs()))[1]!.values).toEqual(new BigInt64Array([0n, 1n, 2n]));
    } finally {
      await inline.release();
      await threaded.release();
    }
  });

  it("keeps the code of a conversion error raised in the thread", async () => {
    const threaded = await open.threaded(model(FIXTURE_MODELS, "echo"));
    try {
      const inputs = echoInputs().map((t) => (t.datatype === "BYTES" ? { ...t, values: [...(t.values as Uint8Array[]).slice(1), new Uint8Array([0xff])] } : t));
      const error = await failure(threaded.run(inputs));
      expect(error.code).toBe(Code.InvalidArgument);
      expect(error.rawMessage).toMatch(/input "bytes": element 5 is not valid UTF-8/);
    } finally {
      await threaded.release();
    }
  });

  it("a model that does not match its config fails to load with createSession's message", async () => {
    const iris = model(MODELS, "iris");
    const echo = model(FIXTURE_MODELS, "echo");
    await expect(open.threaded({ config: echo.config, file: iris.file })).rejects.toThrow(/model\.onnx does not match config\.json: input "bool" is not in the ONNX graph/);
  });

  it("a thread that dies fails its in-flight run with internal, and the next run gets a fresh thread", async () => {
    const iris = model(MODELS, "iris");
    const runner = await ThreadedRunner.open("iris", iris.file, iris.config, ["cpu"], {
      logLevel: "error",
      instances: 1,
      entry: new URL("./fixtures/crashing-host.ts", import.meta.url),
    });
    try {
      const first = await failure(runner.run(irisInputs()));
      expect(first.code).toBe(Code.Internal);
      expect(first.rawMessage).toBe('model "iris" failed to run: its session thread stopped (simulated crash in the session thread)');
      expect(runner.running).toBe(0);
      // Restarted on demand (and this stand-in dies again): an answer, not a hang.
      const second = await failure(runner.run(irisInputs()));
      expect(second.code).toBe(Code.Internal);
    } finally {
      await runner.release();
    }
  });
});

describe("threads per model and release", () => {
  it("starts instance_count threads, answers concurrent runs alike, and ends them all on release", async () => {
    const iris = model(MODELS, "iris", { instanceCount: 2 });
    const runner = await open.threaded(iris, 2);
    expect(runner.running).toBe(2);
    const answers = await Promise.all([runner.run(irisInputs()), runner.run(irisInputs()), runner.run(irisInputs())]);
    for (const answer of answers) expect(answer).toEqual(answers[0]);
    await runner.release();
    expect(runner.running).toBe(0);
    const after = await failure(runner.run(irisInputs()));
    expect(after.code).toBe(Code.Unavailable);
    expect(after.rawMessage).toBe('model "iris" is unloaded');
  });

  it("spreads concurrent runs over the threads: three runs on two threads go to the first, the second, the first", async () => {
    // A stand-in host that answers with its threadId shows which thread served each run.
    const iris = model(MODELS, "iris", { instanceCount: 2 });
    const runner = await ThreadedRunner.open("iris", iris.file, iris.config, ["cpu"], {
      logLevel: "warn",
      instances: 2,
      entry: new URL("./fixtures/identifying-host.ts", import.meta.url),
    });
    try {
      const answers = await Promise.all([runner.run(irisInputs()), runner.run(irisInputs()), runner.run(irisInputs())]);
      const served = answers.map((outputs) => (outputs[0]!.values as Int32Array)[0]);
      expect(new Set(served).size).toBe(2);
      expect(served[2]).toBe(served[0]);
      expect(served[1]).not.toBe(served[0]);
    } finally {
      await runner.release();
    }
  });

  it("answers a run already sent before releasing", async () => {
    const slow = model(FIXTURE_MODELS, "slow");
    const runner = await open.threaded(slow);
    const run = runner.run([{ name: "x", datatype: "FP32", shape: [1, 8], values: new Float32Array(8) }]);
    await runner.release();
    expect((await run)[0]!.shape).toEqual([1, 8]);
    expect(runner.running).toBe(0);
  });
});

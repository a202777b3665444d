// Chaos: two real worker processes behind the real edge (WORKER_URLS=a,b, as
// `WORKERS=2 npm start` runs them) under steady load from a few concurrent
// callers; the workers are killed with SIGKILL one after the other and
// brought back on their ports. What clients may see:
//   one worker left  -> every request succeeds (the pool retries `unavailable` on the other)
//   none left        -> 503 / unavailable only, never another 5xx
//   workers back     -> requests succeed again, without restarting the edge
// Phases end on events (a number of answers, a process exit), never on a clock.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { restCall } from "../support/clients.js";
import { startEdge, type EdgeHandle } from "../support/edge-runtime.js";
import { irisRestBody } from "../support/iris.js";
import { startWorker, type WorkerHandle } from "../support/worker-process.js";

let a: WorkerHandle;
let b: WorkerHandle;
let edge: EdgeHandle;

beforeAll(async () => {
  [a, b] = await Promise.all([startWorker(), startWorker()]);
  // No cache: every request must reach a worker.
  edge = await startEdge({ WORKER_URLS: `${a.url},${b.url}`, CACHE_ENABLED: "false" });
});

afterAll(async () => {
  await edge?.dispose();
  await Promise.all([a?.stop("SIGKILL"), b?.stop("SIGKILL")]);
});

type Phase = "both" | "killing-a" | "one" | "killing-b" | "none" | "returning" | "back";

interface Answer {
  readonly started: Phase;
  readonly ended: Phase;
  readonly status: number;
  readonly body: string;
}

/** `callers` loops of REST calls, each answer tagged with the phase it started and ended in. */
function load(callers: number) {
  let phase: Phase = "both";
  let running = true;
  const answers: Answer[] = [];
  const waiters: { count: (a: Answer) => boolean; n: number; resolve: () => void }[] = [];
  const loop = async () => {
    while (running) {
      const started = phase;
      const r = await restCall(`${edge.url}/v2/models/iris/infer`, irisRestBody()).catch((e: unknown) => ({ status: 0, text: String(e) }));
      const answer = { started, ended: phase, status: r.status, body: r.text };
      answers.push(answer);
      for (const w of waiters) if (w.count(answer)) w.n -= 1;
      for (const w of waiters.filter((w) => w.n <= 0)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  };
  const loops = Array.from({ length: callers }, loop);
  return {
    answers,
    set phase(next: Phase) {
      phase = next;
    },
    /** Resolves after `n` more answers that `count` accepts. */
    until(n: number, count: (a: Answer) => boolean): Promise<void> {
      return new Promise((resolve) => waiters.push({ n, count, resolve }));
    },
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}

describe("chaos: workers killed under load", () => {
  it("one worker left: all succeed; none: only 503; back: success again, same edge", async () => {
    const traffic = load(3);
    try {
      const within = (p: Phase) => (x: Answer) => x.started === p && x.ended === p;
      await traffic.until(15, within("both"));

      traffic.phase = "killing-a";
      await a.stop("SIGKILL");
      traffic.phase = "one";
      // Long enough that calls go to the dead worker again once its cool-down ends.
      await traffic.until(100, within("one"));

      traffic.phase = "killing-b";
      await b.stop("SIGKILL");
      traffic.phase = "none";
      await traffic.until(10, within("none"));

      traffic.phase = "returning";
      [a, b] = await Promise.all([startWorker({ port: a.port }), startWorker({ port: b.port })]);
      // The pool notices by itself: wait for the first success, then demand only successes.
      await traffic.until(1, (x) => x.started === "returning" && x.status === 200);
      traffic.phase = "back";
      await traffic.until(20, within("back"));
    } finally {
      await traffic.stop();
    }

    const of = (p: Phase) => traffic.answers.filter((x) => x.started === p && x.ended === p);
    const summary = (xs: Answer[]) => xs.filter((x) => x.status !== 200).map((x) => `${x.status} ${x.body}`);
    // While a worker is left every call succeeds, also those in flight on the worker that died.
    const whileOneLeft = traffic.answers.filter((x) => ["both", "killing-a", "one"].includes(x.ended));
    expect(summary(whileOneLeft)).toEqual([]);
    expect(of("one").length).toBeGreaterThanOrEqual(100);
    expect(of("none").map((x) => x.status)).toEqual(of("none").map(() => 503));
    for (const x of of("none")) expect(JSON.parse(x.body).error).toMatch(/no GPU worker answered/);
    expect(summary(of("back"))).toEqual([]);
    // Whatever the moment of a kill, no request ever got a 5xx other than 503 (or no answer at all).
    const bad = traffic.answers.filter((x) => x.status === 0 || (x.status >= 500 && x.status !== 503));
    expect(bad.map((x) => `${x.started}->${x.ended}: ${x.status} ${x.body}`)).toEqual([]);
  }, 240_000);
});

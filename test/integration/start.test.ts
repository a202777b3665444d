// Pins down README's promise: `npm start` brings up the whole stack (worker
// on CPU + edge under `wrangler dev`), answers the README's curl example,
// restarts a worker that dies (as an orchestrator would), stops the stack when
// a worker keeps dying, and Ctrl-C (SIGINT) stops every process cleanly.
import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import { restCall } from "../support/clients.js";
import { irisRestBody } from "../support/iris.js";
import { ROOT } from "../support/paths.js";
import { freePort, waitFor } from "../support/ports.js";

async function startStack(extraEnv: Record<string, string> = {}) {
  const [edgePort, workerPort, bridgePort] = [await freePort(), await freePort(), await freePort()];
  const child = spawn(process.execPath, ["--import", "tsx", "scripts/start.ts"], {
    cwd: ROOT,
    env: { ...process.env, EDGE_PORT: String(edgePort), WORKER_PORT: String(workerPort), BRIDGE_PORT: String(bridgePort), ...extraEnv },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  /** The pid `npm start` reported for its worker, the `nth` time it started one (1-based). */
  const workerPid = (nth: number) => {
    const pids = [...output.matchAll(new RegExp(`\\[start\\] worker running as pid (\\d+) on port ${workerPort}`, "g"))];
    return pids[nth - 1] === undefined ? undefined : Number(pids[nth - 1]![1]);
  };
  return { child, edgePort, workerPort, bridgePort, exited, output: () => output, workerPid };
}

async function expectAllStopped(ports: number[]): Promise<void> {
  for (const port of ports) await expect(fetch(`http://127.0.0.1:${port}/`)).rejects.toThrow();
}

describe("npm start", () => {
  it("runs the stack on the given ports, serves REST and Connect, restarts a killed worker, and stops on SIGINT", async () => {
    const stack = await startStack();
    const { child, edgePort, workerPort, bridgePort, output } = stack;
    try {
      await waitFor("[start] ready", async () => output().includes("[start] ready"), 90_000);
      expect(output()).toContain(`http://127.0.0.1:${edgePort}`);
      expect(output()).toContain(`http://127.0.0.1:${workerPort}`);
      expect(output()).toMatch(/WARNING.*CPU/);
      expect(output()).toContain("anonymous access is ON under the 'development' plan (local stack only)");
      expect(output()).toContain(`http://127.0.0.1:${bridgePort} (Upstash REST bridge)`);

      const rest = await restCall(`http://127.0.0.1:${edgePort}/v2/models/iris/infer`, irisRestBody());
      expect(rest.status, rest.text).toBe(200);
      expect(rest.json.outputs.find((o: { name: string }) => o.name === "label").data).toEqual([0, 1, 2]);

      const connect = await restCall(`http://127.0.0.1:${edgePort}/inference.GRPCInferenceService/ModelMetadata`, { name: "iris" });
      expect(connect.status, connect.text).toBe(200);
      expect(connect.json.name).toBe("iris");

      // A worker killed under the stack comes back on its port and serves through the same edge.
      const first = stack.workerPid(1)!;
      expect(first).toBeGreaterThan(0);
      process.kill(first, "SIGKILL");
      await waitFor("the restarted worker", async () => output().includes("[start] worker is back"), 90_000);
      expect(output()).toMatch(/\[start\] !!! worker exited unexpectedly \(SIGKILL\); restarting it in 0\.5 s \(crash 1 of 5 allowed within 60 s\) !!!/);
      const second = stack.workerPid(2)!;
      expect(second).not.toBe(first);
      expect(output()).toContain(`[start] worker is back (pid ${second})`);
      expect((await fetch(`http://127.0.0.1:${workerPort}/v2/health/ready`)).status).toBe(200);
      // The edge may still hold the dead worker as ejected for a moment: wait for its answer, not a clock.
      await waitFor("the edge to serve from the restarted worker", async () => {
        const again = await restCall(`http://127.0.0.1:${edgePort}/v2/models/iris/infer`, irisRestBody());
        return again.status === 200;
      }, 60_000);
      expect(child.exitCode).toBeNull();
    } finally {
      child.kill("SIGINT");
      const timer = setTimeout(() => child.kill("SIGKILL"), 40_000);
      const code = await stack.exited;
      clearTimeout(timer);
      expect(code, output()).toBe(0);
    }
    await expectAllStopped([workerPort, edgePort, bridgePort]);
  }, 300_000);

  it("stops the whole stack when a worker keeps dying (WORKER_MAX_CRASHES)", async () => {
    const stack = await startStack({ WORKER_MAX_CRASHES: "1" });
    const { child, edgePort, workerPort, bridgePort, output } = stack;
    const timer = setTimeout(() => child.kill("SIGKILL"), 200_000);
    try {
      await waitFor("[start] ready", async () => output().includes("[start] ready"), 90_000);
      process.kill(stack.workerPid(1)!, "SIGKILL");
      const code = await stack.exited;
      expect(code, output()).toBe(1);
      expect(output()).toMatch(/\[start\] !!! worker exited unexpectedly \(SIGKILL\): crash 1 within 60 s reaches WORKER_MAX_CRASHES=1; stopping the stack !!!/);
      expect(stack.workerPid(2)).toBeUndefined();
    } finally {
      clearTimeout(timer);
      if (child.exitCode === null) child.kill("SIGKILL");
    }
    await expectAllStopped([workerPort, edgePort, bridgePort]);
  }, 300_000);
});

// Pins down README's promise: `npm start` brings up the whole stack (worker
// on CPU + edge under `wrangler dev`), answers the README's curl example,
// and Ctrl-C (SIGINT) stops every process cleanly.
import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import { restCall } from "../support/clients.js";
import { irisRestBody } from "../support/iris.js";
import { ROOT } from "../support/paths.js";
import { freePort, waitFor } from "../support/ports.js";

describe("npm start", () => {
  it("runs the stack on the given ports, serves REST and Connect, and stops on SIGINT", async () => {
    const [edgePort, workerPort, bridgePort] = [await freePort(), await freePort(), await freePort()];
    const child = spawn(process.execPath, ["--import", "tsx", "scripts/start.ts"], {
      cwd: ROOT,
      env: { ...process.env, EDGE_PORT: String(edgePort), WORKER_PORT: String(workerPort), BRIDGE_PORT: String(bridgePort) },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
    try {
      await waitFor("[start] ready", async () => output.includes("[start] ready"), 90_000);
      expect(output).toContain(`http://127.0.0.1:${edgePort}`);
      expect(output).toContain(`http://127.0.0.1:${workerPort}`);
      expect(output).toMatch(/WARNING.*CPU/);
      expect(output).toContain("anonymous access is ON under the 'development' plan (local stack only)");
      expect(output).toContain(`http://127.0.0.1:${bridgePort} (Upstash REST bridge)`);

      const rest = await restCall(`http://127.0.0.1:${edgePort}/v2/models/iris/infer`, irisRestBody());
      expect(rest.status, rest.text).toBe(200);
      expect(rest.json.outputs.find((o: { name: string }) => o.name === "label").data).toEqual([0, 1, 2]);

      const connect = await restCall(`http://127.0.0.1:${edgePort}/inference.GRPCInferenceService/ModelMetadata`, { name: "iris" });
      expect(connect.status, connect.text).toBe(200);
      expect(connect.json.name).toBe("iris");
    } finally {
      child.kill("SIGINT");
      const timer = setTimeout(() => child.kill("SIGKILL"), 40_000);
      const code = await exited;
      clearTimeout(timer);
      expect(code, output).toBe(0);
    }
    await expect(fetch(`http://127.0.0.1:${workerPort}/v2/health/live`)).rejects.toThrow();
    await expect(fetch(`http://127.0.0.1:${edgePort}/v2/health/live`)).rejects.toThrow();
    await expect(fetch(`http://127.0.0.1:${bridgePort}/`)).rejects.toThrow();
  }, 150_000);
});

// Pins down that every protocol carries every datatype the same way: the
// `echo` fixture model returns its inputs, so REST JSON, Connect JSON,
// Connect binary and gRPC-Web must all give back exactly what was sent.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inferRequest } from "../../client/index.js";
import type { Datatype } from "../../common/oip/index.js";
import { edgeClient, restCall, type EdgeProtocol } from "../support/clients.js";
import { startEdge, type EdgeHandle } from "../support/edge-runtime.js";
import { FIXTURE_MODELS } from "../support/paths.js";
import { plainOutputs } from "../support/tensors.js";
import { startWorker, type WorkerHandle } from "../support/worker-process.js";

let worker: WorkerHandle;
let edge: EdgeHandle;
let echoInputs: { name: string; datatype: string }[];

beforeAll(async () => {
  worker = await startWorker({ repository: FIXTURE_MODELS });
  edge = await startEdge({ WORKER_URLS: worker.url });
  const metadata = await restCall(`${edge.url}/v2/models/echo`);
  echoInputs = metadata.json.inputs;
});

afterAll(async () => {
  await edge?.dispose();
  await worker?.stop();
});

/** JSON values per datatype, chosen to hit the edges of each type. */
const SAMPLES: Record<string, (number | string | boolean)[]> = {
  BOOL: [true, false, true],
  UINT8: [0, 7, 255],
  UINT16: [0, 1000, 65535],
  UINT32: [0, 70000, 4294967295],
  UINT64: [0, 1, 9007199254740991],
  INT8: [-128, 0, 127],
  INT16: [-32768, 5, 32767],
  INT32: [-2147483648, 5, 2147483647],
  INT64: [-9007199254740991, 0, 9007199254740991],
  FP16: [0.5, -2, 65504],
  FP32: [0.25, -1.5, 3.0e38],
  FP64: [0.1, -1e300, 123456.789],
  BYTES: ["hello", "", "héllo ✓"],
};

describe("every datatype round-trips identically through every edge protocol", () => {
  it("REST JSON echoes each datatype exactly", async () => {
    const inputs = echoInputs.map(({ name, datatype }) => ({ name, datatype, shape: [1, 3], data: SAMPLES[datatype] }));
    const { status, json, text } = await restCall(`${edge.url}/v2/models/echo/infer`, { inputs });
    expect(status, text).toBe(200);
    for (const { name, datatype } of echoInputs) {
      const output = json.outputs.find((o: { name: string }) => o.name === `${name}_out`);
      expect(output, `${name}_out`).toBeDefined();
      expect(output.datatype).toBe(datatype);
      expect(output.shape).toEqual([1, 3]);
      const expected = datatype === "FP32" ? Array.from(Float32Array.from(SAMPLES.FP32 as number[])) : SAMPLES[datatype];
      expect(output.data).toEqual(expected);
    }
  });

  for (const protocol of ["connect-json", "connect-binary", "grpc-web"] satisfies EdgeProtocol[]) {
    it(`${protocol} returns the same tensors as REST`, async () => {
      // Raw bytes built by the browser client's helper (common/oip underneath).
      const request = inferRequest(
        "echo",
        echoInputs.map(({ name, datatype }) => ({ name, datatype: datatype as Datatype, shape: [1, 3], data: SAMPLES[datatype]! })),
      );
      const viaConnect = plainOutputs(await edgeClient(edge.url, protocol).modelInfer(request));
      const viaRest = await restCall(`${edge.url}/v2/models/echo/infer`, {
        inputs: echoInputs.map(({ name, datatype }) => ({ name, datatype, shape: [1, 3], data: SAMPLES[datatype] })),
      });
      const sortByName = <T extends { name: string }>(list: T[]) => [...list].sort((a, b) => a.name.localeCompare(b.name));
      expect(sortByName(viaConnect)).toEqual(sortByName(viaRest.json.outputs));
    });
  }

  it("INT64 beyond 2^53 survives REST exactly (written as exact digits)", async () => {
    const int64 = echoInputs.find((i) => i.datatype === "INT64")!;
    const body = `{"inputs":[${echoInputs
      .map(({ name, datatype }) =>
        name === int64.name
          ? `{"name":"${name}","datatype":"INT64","shape":[1,3],"data":[9223372036854775807,-9223372036854775808,1]}`
          : JSON.stringify({ name, datatype, shape: [1, 3], data: SAMPLES[datatype] }),
      )
      .join(",")}]}`;
    const { status, text } = await restCall(`${edge.url}/v2/models/echo/infer`, body);
    expect(status, text).toBe(200);
    expect(text).toContain("[9223372036854775807,-9223372036854775808,1]");
  });
});

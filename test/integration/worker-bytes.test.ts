// Item 3 of issue 9 at the worker: a few MiB of empty BYTES strings (millions
// of elements) used to block the worker's event loop for seconds and grow it
// by gigabytes. MAX_BYTES_ELEMENTS and MAX_BYTES_LENGTH now refuse such a
// request before any element is decoded, while a health probe keeps
// answering; requests at the limits still round-trip exactly.
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeRaw } from "../../common/oip/index.js";
import { ModelInferRequestSchema, type ModelInferRequest } from "../../gen/inference/grpc_service_pb.js";
import { workerClient } from "../support/clients.js";
import { datatypeSamples } from "../support/datatype-samples.js";
import { FIXTURE_MODELS } from "../support/paths.js";
import { startWorker, type WorkerHandle } from "../support/worker-process.js";

const MAX_ELEMENTS = 65_536; // the documented defaults
const MAX_LENGTH = 4 * 1024 * 1024;

let worker: WorkerHandle;

beforeAll(async () => {
  worker = await startWorker({ repository: FIXTURE_MODELS });
});

afterAll(async () => {
  await worker?.stop();
});

/** An echo request: one row of one sample per numeric input, and `bytes` as the BYTES input. */
// Raw contents only: echo takes FP16, which OIP allows as raw contents only
// (typed bytes_contents are covered in test/gpu-worker/model/limits.test.ts).
function echoRequest(bytes: Uint8Array[] | { raw: Uint8Array; count: number }): ModelInferRequest {
  const samples = Object.entries(datatypeSamples()).filter(([datatype]) => datatype !== "BYTES");
  const count = Array.isArray(bytes) ? bytes.length : bytes.count;
  const inputs = [
    ...samples.map(([datatype]) => ({ name: datatype.toLowerCase(), datatype, shape: [1n, 1n] })),
    { name: "bytes", datatype: "BYTES", shape: [1n, BigInt(count)] },
  ];
  const rawOf = (values: ReturnType<typeof datatypeSamples>[keyof ReturnType<typeof datatypeSamples>]) =>
    encodeRaw((values as Uint8Array).subarray(0, 1) as never);
  return create(ModelInferRequestSchema, {
    modelName: "echo",
    inputs,
    rawInputContents: [...samples.map(([, values]) => rawOf(values)), Array.isArray(bytes) ? encodeRaw(bytes) : bytes.raw],
  });
}

/** Runs `work` while probing /v2/health/ready back to back; the slowest probe's latency. */
async function slowestProbeDuring(work: () => Promise<unknown>): Promise<number> {
  let done = false;
  let slowest = 0;
  const probes = (async () => {
    while (!done) {
      const start = performance.now();
      const response = await fetch(`${worker.url}/v2/health/ready`);
      expect(response.status).toBe(200);
      slowest = Math.max(slowest, performance.now() - start);
    }
  })();
  try {
    await work();
  } finally {
    done = true;
    await probes;
  }
  return slowest;
}

async function refusal(request: ModelInferRequest): Promise<ConnectError> {
  const error = await workerClient(worker.url, "connect-h2").modelInfer(request).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConnectError);
  return error as ConnectError;
}

const utf8 = (s: string) => new TextEncoder().encode(s);
/** Byte-for-byte equality without a multi-MiB diff on failure. */
const sameBytes = (a: Uint8Array | undefined, b: Uint8Array) => a !== undefined && Buffer.from(a).equals(Buffer.from(b));

describe("BYTES work is bounded before it is done", () => {
  it("a million empty strings (4 MiB raw) are refused while a health probe answers within 1 s", async () => {
    const count = 1_000_000;
    let error: ConnectError | undefined;
    const slowest = await slowestProbeDuring(async () => {
      error = await refusal(echoRequest({ raw: new Uint8Array(4 * count), count }));
    });
    expect(error!.code).toBe(Code.ResourceExhausted);
    expect(error!.rawMessage).toMatch(/more than 65536 elements in total \(MAX_BYTES_ELEMENTS\)/);
    expect(slowest).toBeLessThan(1000);
  });

  it("exactly MAX_BYTES_ELEMENTS elements holding exactly MAX_BYTES_LENGTH bytes round-trip; one more of either is refused", async () => {
    const perElement = MAX_LENGTH / MAX_ELEMENTS; // 64
    // Distinct contents per element, so a mixed-up element would show.
    const elements = Array.from({ length: MAX_ELEMENTS }, (_, i) => utf8(String(i).padStart(perElement, "x")));
    const answer = await workerClient(worker.url, "connect-h2").modelInfer(echoRequest(elements));
    const index = answer.outputs.findIndex((o) => o.name === "bytes_out");
    expect(answer.outputs[index]!.shape).toEqual([1n, BigInt(MAX_ELEMENTS)]);
    expect(sameBytes(answer.rawOutputContents[index], encodeRaw(elements))).toBe(true);

    const overCount = await refusal(echoRequest([...elements.slice(1).map((e) => e.subarray(1)), utf8("a"), utf8("b")]));
    expect(overCount.code).toBe(Code.ResourceExhausted);
    expect(overCount.rawMessage).toMatch(/more than 65536 elements in total \(MAX_BYTES_ELEMENTS\)/);

    const overLength = await refusal(echoRequest([...elements.slice(1), utf8("y".repeat(perElement + 1))]));
    expect(overLength.code).toBe(Code.ResourceExhausted);
    expect(overLength.rawMessage).toMatch(/more than 4194304 bytes in total \(MAX_BYTES_LENGTH\)/);

    // Just under both limits.
    const under = elements.slice(1);
    const underAnswer = await workerClient(worker.url, "connect-h2").modelInfer(echoRequest(under));
    expect(sameBytes(underAnswer.rawOutputContents[index], encodeRaw(under))).toBe(true);
  });
});

// Property-based fuzzing at a worker's own port (a real worker process, no
// token, so every byte reaches the parsers): arbitrary bodies, envelopes,
// JSON, protobuf requests and headers over HTTP/1.1 and h2c, at the RPC
// paths every protocol shares. The property: the answer is never a server
// fault (no 5xx, no internal / unknown / data_loss) except the codes the
// protocols prescribe for a client's choice the worker does not support
// (unimplemented: an unknown compression), and the process never exits.
import { create, toBinary } from "@bufbuild/protobuf";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DATATYPES } from "../../common/oip/index.js";
import { ModelInferRequestSchema } from "../../gen/inference/grpc_service_pb.js";
import { envelope, h1Request, h2Request, statusOf, type RawAnswer, type RawRequest } from "../support/raw-http.js";
import { startWorker, type WorkerHandle } from "../support/worker-process.js";

let worker: WorkerHandle;

beforeAll(async () => {
  worker = await startWorker({ env: { MAX_MESSAGE_BYTES: String(1024 * 1024), LOG_LEVEL: "warn" } });
});

afterAll(async () => {
  await worker?.stop();
});

const NUM_RUNS = 150;
const SERVICE = "/inference.GRPCInferenceService/";
const PATHS = [
  `${SERVICE}ModelInfer`,
  `${SERVICE}ModelMetadata`,
  `${SERVICE}ModelReady`,
  `${SERVICE}ServerLive`,
  `${SERVICE}ModelStatistics`,
  `${SERVICE}ModelInferCancel`,
  "/grpc.health.v1.Health/Check",
  "/grpc.health.v1.Health/Watch",
];
const CONTENT_TYPES = [
  "application/proto",
  "application/json",
  "application/json; charset=utf-8",
  "application/grpc",
  "application/grpc+proto",
  "application/grpc+json",
  "application/grpc-web",
  "application/grpc-web+proto",
  "application/grpc-web+json",
  "application/grpc-web-text",
  "application/connect+proto",
  "application/connect+json",
  "text/plain",
  "application/x-protobuf",
];
/** Codes that would mean the worker failed, not the caller. */
const SERVER_FAULTS = new Set(["13", "2", "15", "internal", "unknown", "data_loss"]);
/** Codes a protocol prescribes for something a caller chose that the worker does not offer. */
const PRESCRIBED = new Set(["12", "unimplemented"]);

const printable = fc.string({ unit: fc.constantFrom(..." !#$%&'()*+,-./0123456789:;<=>?@ABCXYZabcxyz[]^_`{|}~"), maxLength: 24 });
const someHeaders = fc.record(
  {
    "content-encoding": fc.oneof(fc.constantFrom("gzip", "br", "identity", "zstd"), printable),
    "grpc-encoding": fc.oneof(fc.constantFrom("gzip", "br", "identity", "zstd"), printable),
    "grpc-accept-encoding": fc.constantFrom("gzip", "br", "identity", "gzip,br"),
    "connect-timeout-ms": fc.oneof(fc.nat().map(String), printable),
    "grpc-timeout": fc.oneof(fc.constantFrom("1S", "100m", "99999999H", "0n"), printable),
    "connect-protocol-version": fc.constantFrom("1", "2", ""),
    "x-call-id": printable,
  },
  { requiredKeys: [] },
);
/** Half the requests carry no extra headers, so bodies reach the parsers instead of stopping at a bad header. */
const headers = fc.option(someHeaders, { freq: 2, nil: {} });
const transport = fc.constantFrom("h1" as const, "h2" as const);

function send(via: "h1" | "h2", request: RawRequest): Promise<RawAnswer> {
  return via === "h1" ? h1Request(worker.port, request) : h2Request(worker.url, request);
}

/** The property every answer must hold, with a description for the counterexample. */
function expectNoServerFault(answer: RawAnswer): void {
  const status = statusOf(answer);
  const described = `HTTP ${answer.status}, ${JSON.stringify(status)}`;
  if (PRESCRIBED.has(status.code)) return;
  expect(answer.status, described).toBeLessThan(500);
  expect(SERVER_FAULTS.has(status.code), described).toBe(false);
}

async function expectAlive(): Promise<void> {
  expect(worker.process.exitCode, worker.output()).toBeNull();
  expect(worker.process.signalCode, worker.output()).toBeNull();
  expect((await fetch(`${worker.url}/v2/health/ready`)).status).toBe(200);
}

/** An envelope whose announced length may lie, with any flags. */
const anyEnvelope = fc
  .record({ flags: fc.integer({ min: 0, max: 255 }), payload: fc.uint8Array({ maxLength: 64 }), lie: fc.option(fc.integer({ min: 0, max: 2 ** 32 - 1 })) })
  .map(({ flags, payload, lie }) => envelope(flags, payload, lie ?? payload.byteLength));

/** ModelInferRequests a careless or hostile client could build: any names, datatypes, shapes and contents. */
const inferRequest = fc
  .record({
    modelName: fc.constantFrom("iris", "mlp-wide", "", "nope"),
    modelVersion: fc.constantFrom("", "1", "2", "-1"),
    id: fc.string({ maxLength: 200 }),
    inputs: fc.array(
      fc.record({
        name: fc.constantFrom("input", "", "x"),
        datatype: fc.constantFrom(...DATATYPES, "", "FLOAT"),
        shape: fc.array(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), { maxLength: 6 }),
        contents: fc.option(
          fc.oneof(
            fc.record({ fp32Contents: fc.array(fc.float(), { maxLength: 16 }) }),
            fc.record({ int64Contents: fc.array(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), { maxLength: 16 }) }),
            fc.record({ bytesContents: fc.array(fc.uint8Array({ maxLength: 8 }), { maxLength: 16 }) }),
            fc.record({ boolContents: fc.array(fc.boolean(), { maxLength: 16 }) }),
          ),
          { nil: undefined },
        ),
      }),
      { maxLength: 3 },
    ),
    outputs: fc.array(fc.record({ name: fc.constantFrom("probabilities", "label", "logits", "nope") }), { maxLength: 3 }),
    rawInputContents: fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 3 }),
  })
  .map((r) => toBinary(ModelInferRequestSchema, create(ModelInferRequestSchema, r)));

describe("worker fuzz (fast-check at the worker's port)", () => {
  it("arbitrary bytes under any content type, path and headers never get a server fault", async () => {
    await fc.assert(
      fc.asyncProperty(
        transport,
        fc.constantFrom(...PATHS),
        fc.constantFrom(...CONTENT_TYPES),
        headers,
        fc.uint8Array({ maxLength: 256 }),
        async (via, path, contentType, extra, body) => {
          expectNoServerFault(await send(via, { path, headers: { ...extra, "content-type": contentType }, body: [body] }));
        },
      ),
      { numRuns: NUM_RUNS },
    );
    await expectAlive();
  });

  it("arbitrary envelopes (any flags, lying lengths) for gRPC, gRPC-Web and Connect streaming never get a server fault", async () => {
    await fc.assert(
      fc.asyncProperty(
        transport,
        fc.constantFrom(...PATHS),
        fc.constantFrom("application/grpc", "application/grpc-web+proto", "application/connect+proto"),
        headers,
        fc.array(anyEnvelope, { maxLength: 3 }),
        async (via, path, contentType, extra, frames) => {
          if (via === "h1" && contentType === "application/grpc") via = "h2";
          expectNoServerFault(await send(via, { path, headers: { ...extra, "content-type": contentType }, body: frames }));
        },
      ),
      { numRuns: NUM_RUNS },
    );
    await expectAlive();
  });

  it("arbitrary JSON to the Connect JSON endpoints never gets a server fault", async () => {
    await fc.assert(
      fc.asyncProperty(transport, fc.constantFrom(...PATHS), fc.json({ depthSize: "medium" }), async (via, path, json) => {
        expectNoServerFault(await send(via, { path, headers: { "content-type": "application/json" }, body: [json] }));
      }),
      { numRuns: NUM_RUNS },
    );
    await expectAlive();
  });

  it("well-formed ModelInferRequests with any names, datatypes, shapes and contents never get a server fault", async () => {
    await fc.assert(
      fc.asyncProperty(
        transport,
        fc.constantFrom("application/proto", "application/grpc-web+proto", "application/grpc"),
        inferRequest,
        async (via, contentType, message) => {
          const framed = contentType !== "application/proto";
          if (via === "h1" && contentType === "application/grpc") via = "h2";
          expectNoServerFault(
            await send(via, {
              path: `${SERVICE}ModelInfer`,
              headers: { "content-type": contentType },
              body: [framed ? envelope(0, message) : message],
            }),
          );
        },
      ),
      { numRuns: NUM_RUNS },
    );
    await expectAlive();
  });
});

// Hostile input at the edge's Connect (JSON and binary) and gRPC-Web doors,
// against the real edge bundle in workerd and a real worker process: every
// answer is a client error in the protocol's own terms (never internal or
// unknown, never an HTTP 5xx) with a message that says what to fix, nothing
// reaches a worker that the worker would refuse for size, and both tiers
// keep answering health probes within 1 s throughout. Also end to end: the
// retry hints on "queue full" and "no worker". (REST and GraphQL: see
// edge-hostile.test.ts.)
import { create, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InferParameterSchema, ModelInferRequestSchema } from "../../gen/inference/grpc_service_pb.js";
import { edgeClient, restCall } from "../support/clients.js";
import { startEdge, type EdgeHandle } from "../support/edge-runtime.js";
import { irisRequest } from "../support/iris.js";
import { FIXTURE_MODELS } from "../support/paths.js";
import { freePort } from "../support/ports.js";
import { metricValue, startWorker, type WorkerHandle } from "../support/worker-process.js";

const PATH = "/inference.GRPCInferenceService/ModelInfer";
/** Codes that would blame the server for the client's request. */
const SERVER_FAULTS = new Set([Code.Internal, Code.Unknown, Code.DataLoss]);

let worker: WorkerHandle;
let edge: EdgeHandle;

beforeAll(async () => {
  worker = await startWorker();
  edge = await startEdge({ WORKER_URLS: worker.url });
});

afterAll(async () => {
  await edge?.dispose();
  await worker?.stop();
});

interface Answer {
  readonly http: number;
  readonly code: Code;
  readonly message: string;
}

/** Sends raw bytes and reads the answer as its protocol defines it (Connect JSON error or gRPC-Web trailers). */
async function send(body: string | Uint8Array, headers: Record<string, string>, path = PATH): Promise<Answer> {
  const res = await fetch(`${edge.url}${path}`, { method: "POST", headers, body });
  const bytes = new Uint8Array(await res.arrayBuffer());
  if ((res.headers.get("content-type") ?? "").startsWith("application/grpc-web")) {
    const trailer = res.headers.get("grpc-status") !== null
      ? `grpc-status: ${res.headers.get("grpc-status")}\r\ngrpc-message: ${res.headers.get("grpc-message") ?? ""}`
      : new TextDecoder().decode(bytes.subarray(5));
    const code = Number(/grpc-status: (\d+)/.exec(trailer)?.[1] ?? Number.NaN) as Code;
    return { http: res.status, code, message: decodeURIComponent(/grpc-message: ([^\r]*)/.exec(trailer)?.[1] ?? "") };
  }
  const json = JSON.parse(new TextDecoder().decode(bytes)) as { code: string; message: string };
  const code = Code[json.code.replace(/(^|_)([a-z])/g, (_, __, c: string) => c.toUpperCase()) as keyof typeof Code];
  return { http: res.status, code, message: json.message };
}

/** A gRPC-Web frame: flags, 4-byte big-endian length (announced), payload. */
function frame(flags: number, payload: Uint8Array, announced = payload.byteLength): Uint8Array {
  const out = new Uint8Array(5 + payload.byteLength);
  out[0] = flags;
  new DataView(out.buffer).setUint32(1, announced);
  out.set(payload, 5);
  return out;
}

async function healthWithinOneSecond(): Promise<void> {
  for (const url of [`${edge.url}/v2/health/live`, `${worker.url}/v2/health/live`]) {
    const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
    expect(res.status, url).toBe(200);
  }
}

const GW = { "content-type": "application/grpc-web+proto" };
const JSON_CT = { "content-type": "application/json" };
const PROTO = { "content-type": "application/proto" };
const iris = toBinary(ModelInferRequestSchema, irisRequest());
const nested = (depth: number) => `${"[".repeat(depth)}${"]".repeat(depth)}`;
// 2,000,000 empty BYTES elements as raw contents: 8 MB of length prefixes, under MAX_BODY_BYTES.
const manyEmptyStrings = toBinary(
  ModelInferRequestSchema,
  create(ModelInferRequestSchema, {
    modelName: "iris",
    inputs: [{ name: "input", datatype: "BYTES", shape: [1n, 2_000_000n] }],
    rawInputContents: [new Uint8Array(2_000_000 * 4)],
  }),
);
// 2,000,000 empty typed bytes_contents entries (2 bytes each on the wire).
const manyTypedStrings = (() => {
  const head = toBinary(ModelInferRequestSchema, create(ModelInferRequestSchema, { modelName: "iris" }));
  const entries = new Uint8Array(2_000_000 * 2).map((_, i) => (i % 2 === 0 ? 0x42 : 0)); // field 8 (bytes_contents), length 0
  // InferInputTensor { name=1 "input", datatype=2 "BYTES", shape=3 [1, 2000000], contents=5 {...} } as inputs (field 5) of the request.
  const contents = concat(new Uint8Array([0x2a]), varint(entries.byteLength), entries);
  const tensor = concat(
    new Uint8Array([0x0a, 5]), new TextEncoder().encode("input"),
    new Uint8Array([0x12, 5]), new TextEncoder().encode("BYTES"),
    new Uint8Array([0x1a]), varint(4), new Uint8Array([1]), varint(2_000_000).subarray(0, 3),
    contents,
  );
  return concat(head, new Uint8Array([0x2a]), varint(tensor.byteLength), tensor);
})();

function varint(n: number): Uint8Array {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return new Uint8Array(out);
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.byteLength;
  }
  return out;
}

describe("Connect and gRPC-Web at the edge: hostile input gets a client error with a message", () => {
  const cases: [string, () => Promise<Answer>, Code, RegExp][] = [
    ["gRPC-Web: truncated envelope", () => send(frame(0, new Uint8Array([1]), 9), GW), Code.InvalidArgument, /incomplete envelope/],
    ["gRPC-Web: truncated header", () => send(new Uint8Array([0, 0, 0]), GW), Code.InvalidArgument, /envelope/],
    ["gRPC-Web: envelope announcing 4 GiB", () => send(frame(0, new Uint8Array([1]), 0xffffffff), GW), Code.ResourceExhausted, /exceeds 8388608 bytes \(MAX_BODY_BYTES\)/],
    ["gRPC-Web: compressed flag, no grpc-encoding", () => send(frame(1, iris), GW), Code.InvalidArgument, /compressed flag .* names no encoding/],
    ["gRPC-Web: unknown flags", () => send(frame(0x7f, iris), GW), Code.InvalidArgument, /send flags 0/],
    ["gRPC-Web: a trailer frame instead of a message", () => send(frame(0x80, new Uint8Array(0)), GW), Code.InvalidArgument, /exactly one request message/],
    ["gRPC-Web: two messages for a unary call", () => send(concat(frame(0, iris), frame(0, iris)), GW), Code.InvalidArgument, /exactly one request message/],
    ["gRPC-Web: empty body", () => send(new Uint8Array(0), GW), Code.InvalidArgument, /exactly one request message/],
    ["gRPC-Web: not protobuf", () => send(frame(0, new Uint8Array([0xff, 0xff, 0xff])), GW), Code.InvalidArgument, /not a valid protobuf message/],
    ["gRPC-Web: grpc-encoding gzip", () => send(frame(1, iris), { ...GW, "grpc-encoding": "gzip" }), Code.Unimplemented, /uncompressed requests only \(identity\)/],
    ["gRPC-Web: bad grpc-timeout", () => send(frame(0, iris), { ...GW, "grpc-timeout": "99999999999H" }), Code.InvalidArgument, /timeout/],
    ["gRPC-Web JSON: bad JSON", () => send(frame(0, new TextEncoder().encode("{")), { "content-type": "application/grpc-web+json" }), Code.InvalidArgument, /JSON/],
    ["Connect binary: not protobuf", () => send(new Uint8Array([0xff, 0xff, 0xff]), PROTO), Code.InvalidArgument, /not a valid protobuf message/],
    ["Connect binary: a valid message for no model", () => send(new Uint8Array(0), PROTO), Code.InvalidArgument, /model_name is required/],
    ["Connect binary: content-encoding gzip", () => send(iris, { ...PROTO, "content-encoding": "gzip" }), Code.Unimplemented, /uncompressed requests only \(identity\)/],
    ["Connect JSON: bad JSON", () => send("{", JSON_CT), Code.InvalidArgument, /JSON/],
    ["Connect JSON: not an object", () => send("[1, 2]", JSON_CT), Code.InvalidArgument, /JSON/],
    ["Connect JSON: wrong field type", () => send('{"modelName": 5}', JSON_CT), Code.InvalidArgument, /model_name/],
    ["Connect JSON: nested 100,000 deep", () => send(`{"modelName":"iris","parameters":{"a":{"stringParam":${nested(100_000)}}}}`, JSON_CT), Code.InvalidArgument, /string_param/],
    ["Connect JSON: a bare array nested 1,000,000 deep", () => send(nested(1_000_000), JSON_CT), Code.InvalidArgument, /JSON/],
    ["Connect JSON: huge shape", () => send('{"modelName":"iris","inputs":[{"name":"input","datatype":"FP32","shape":["99999999999999999999"]}]}', JSON_CT), Code.InvalidArgument, /shape/],
    ["Connect JSON: shape over MAX_TENSOR_ELEMENTS", () => send('{"modelName":"iris","inputs":[{"name":"input","datatype":"FP32","shape":["100000","100000"]}]}', JSON_CT), Code.ResourceExhausted, /MAX_TENSOR_ELEMENTS/],
    ["Connect JSON: content-encoding br", () => send("{}", { ...JSON_CT, "content-encoding": "br" }), Code.Unimplemented, /content-encoding "br" is not accepted/],
    ["Connect JSON: bad connect-timeout-ms", () => send("{}", { ...JSON_CT, "connect-timeout-ms": "soon" }), Code.InvalidArgument, /timeout/],
    ["Connect: text/plain", () => send("{}", { "content-type": "text/plain" }), Code.InvalidArgument, /content-type "text\/plain" is not served here/],
    ["Connect: no content-type", () => send(iris, {}), Code.InvalidArgument, /is not served here/],
    ["gRPC-Web text (base64)", () => send("AAAAAAA=", { "content-type": "application/grpc-web-text" }), Code.InvalidArgument, /is not served here/],
    ["Connect: unknown method", () => send("{}", JSON_CT, "/inference.GRPCInferenceService/DropAllTables"), Code.Unimplemented, /no such method/],
    ["Connect: 2,000,000 empty BYTES strings (raw)", () => send(manyEmptyStrings, PROTO), Code.ResourceExhausted, /MAX_BYTES_ELEMENTS/],
    ["Connect: 2,000,000 empty BYTES strings (typed)", () => send(manyTypedStrings, PROTO), Code.ResourceExhausted, /MAX_BYTES_ELEMENTS/],
    ["gRPC-Web: 2,000,000 empty BYTES strings (raw)", () => send(frame(0, manyEmptyStrings), GW), Code.ResourceExhausted, /MAX_BYTES_ELEMENTS/],
  ];

  it.each(cases)("%s", async (_what, call, code, message) => {
    const before = metricValue(await worker.metrics(), "worker_inference_requests_total");
    const answer = await call();
    expect(SERVER_FAULTS.has(answer.code), JSON.stringify(answer)).toBe(false);
    expect(answer.code, JSON.stringify(answer)).toBe(code);
    expect(answer.http, JSON.stringify(answer)).toBeLessThan(500);
    expect(answer.message).toMatch(message);
    // Refused at the edge: the worker never saw an inference request.
    expect(metricValue(await worker.metrics(), "worker_inference_requests_total")).toBe(before);
    await healthWithinOneSecond();
  });

  it("a wrong HTTP method gets 405 with Allow and a message", async () => {
    const res = await fetch(`${edge.url}${PATH}`, { method: "GET" });
    expect([res.status, res.headers.get("allow")]).toEqual([405, "POST"]);
    expect(((await res.json()) as { message: string }).message).toMatch(/GET is not allowed .* use POST/);
  });
});

describe("requests the model could never take are refused at the edge, naming its public limits", () => {
  // ~1 MiB of iris rows: under MAX_BODY_BYTES, over the worker's read limit
  // derived from its models. This used to come back as a 429 naming readMaxBytes.
  const rows = 70_000;
  const big = () => irisRequest(Array.from({ length: rows }, () => [5.1, 3.5, 1.4, 0.2]));

  it.each(["connect-json", "connect-binary", "grpc-web"] as const)("%s: 70,000 iris rows -> invalid_argument naming max_batch_size", async (protocol) => {
    const error = ConnectError.from(await edgeClient(edge.url, protocol).modelInfer(big()).catch((e) => e));
    expect(error.code).toBe(Code.InvalidArgument);
    expect(error.rawMessage).toBe(`input "input": batch size ${rows} is over model "iris"'s max_batch_size of 64; split it into requests of at most 64 rows`);
    expect(error.rawMessage).not.toMatch(/readMaxBytes/);
  });

  it("REST: the same request -> 400 naming max_batch_size", async () => {
    const response = await restCall(`${edge.url}/v2/models/iris/infer`, {
      inputs: [{ name: "input", datatype: "FP32", shape: [rows, 4], data: Array(rows * 4).fill(1.5) }],
    });
    expect(response.status, response.text).toBe(400);
    expect(response.json.error).toMatch(/max_batch_size of 64/);
  });

  it("64 rows of 5,000 features -> invalid_argument naming the model's element limit", async () => {
    const wide = create(ModelInferRequestSchema, {
      modelName: "iris",
      inputs: [{ name: "input", datatype: "FP32", shape: [64n, 5000n] }],
      rawInputContents: [new Uint8Array(64 * 5000 * 4)],
    });
    const error = ConnectError.from(await edgeClient(edge.url, "connect-binary").modelInfer(wide).catch((e) => e));
    expect([error.code, error.rawMessage]).toEqual([
      Code.InvalidArgument,
      `the request's tensors hold 320000 elements but model "iris" takes at most 256: 64 rows (max_batch_size) of 4 elements; see the model's metadata for its input shapes`,
    ]);
  });

  it("a request that fits the shapes but still trips the worker's read limit (1 MiB of parameters) -> 400 naming no internal", async () => {
    const padded = irisRequest();
    padded.parameters.pad = create(InferParameterSchema, { parameterChoice: { case: "stringParam", value: "x".repeat(1 << 20) } });
    const error = ConnectError.from(await edgeClient(edge.url, "connect-binary").modelInfer(padded).catch((e) => e));
    expect(error.code).toBe(Code.InvalidArgument);
    expect(error.rawMessage).toMatch(/^the request is larger than the model accepts/);
    expect(error.rawMessage).not.toMatch(/readMaxBytes|\d{6}/);
    await healthWithinOneSecond();
  });
});

describe("retry hints end to end (Retry-After)", () => {
  it("no worker left: REST 503 and Connect unavailable carry Retry-After", async () => {
    const closed = await startEdge({ WORKER_URLS: `http://127.0.0.1:${await freePort()}` });
    try {
      const response = await restCall(`${closed.url}/v2/models/iris/infer`, { inputs: [{ name: "input", datatype: "FP32", shape: [1, 4], data: [1, 2, 3, 4] }] });
      expect(response.status, response.text).toBe(503);
      expect(response.headers.get("retry-after")).toBe("1");
      for (const protocol of ["connect-json", "grpc-web"] as const) {
        const error = ConnectError.from(await edgeClient(closed.url, protocol).modelInfer(irisRequest()).catch((e) => e));
        expect([error.code, error.metadata.get("retry-after")]).toEqual([Code.Unavailable, "1"]);
      }
    } finally {
      await closed.dispose();
    }
  });

  it("a full worker queue: REST 429 and Connect resource_exhausted carry Retry-After", async () => {
    const fixtures = await startWorker({ repository: FIXTURE_MODELS });
    const queued = await startEdge({ WORKER_URLS: fixtures.url });
    try {
      // The `slow` fixture runs ~300 ms per batch of 4 and queues at most 4:
      // a burst of concurrent calls overflows it. Bursts repeat until one
      // does (a loaded machine may spread a burst out); what is checked is
      // the answer a full queue gets, not how soon the queue fills.
      const slow = { inputs: [{ name: "x", datatype: "FP32", shape: [1, 8], data: Array(8).fill(1) }] };
      let rest: Awaited<ReturnType<typeof restCall>> | undefined;
      let connect: ConnectError | undefined;
      for (let burst = 0; burst < 20 && (rest === undefined || connect === undefined); burst++) {
        const client = edgeClient(queued.url, "connect-json");
        const request = create(ModelInferRequestSchema, { modelName: "slow", inputs: [{ name: "x", datatype: "FP32", shape: [1n, 8n], contents: { fp32Contents: Array(8).fill(1) } }] });
        const answers = await Promise.all([
          ...Array.from({ length: 12 }, () => restCall(`${queued.url}/v2/models/slow/infer`, slow)),
          ...Array.from({ length: 12 }, () => client.modelInfer(request).then(() => undefined, (e) => ConnectError.from(e))),
        ]);
        rest ??= answers.find((a): a is Awaited<ReturnType<typeof restCall>> => a !== undefined && !(a instanceof ConnectError) && a.status === 429);
        connect ??= answers.find((a): a is ConnectError => a instanceof ConnectError && a.code === Code.ResourceExhausted);
        for (const answer of answers) {
          if (answer instanceof ConnectError) expect(answer.code).toBe(Code.ResourceExhausted);
          else if (answer !== undefined) expect([200, 429], answer.text).toContain(answer.status);
        }
      }
      expect(rest?.json.error).toMatch(/queue is full/);
      expect(rest?.headers.get("retry-after")).toBe("1");
      expect(connect?.rawMessage).toMatch(/queue is full/);
      expect(connect?.metadata.get("retry-after")).toBe("1");
    } finally {
      await queued.dispose();
      await fixtures.stop();
    }
  });
});

// A worker under attack, over every protocol it speaks on its one port
// (Connect JSON and binary, gRPC, gRPC-Web; HTTP/1.1 and h2c), with and
// without WORKER_TOKEN. Every hostile request must get a protocol error with
// a message that says what is wrong (never a 5xx / internal), the process
// must never exit, and a health probe must keep answering within 1 s while
// the hostile requests run (issue 9, items 1, 5 and 8).
import http2 from "node:http2";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { create, toBinary } from "@bufbuild/protobuf";
import { Code, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Health } from "../../gen/grpc/health/v1/health_pb.js";
import { ModelInferRequestSchema } from "../../gen/inference/grpc_service_pb.js";
import { irisRequest } from "../support/iris.js";
import { ROOT } from "../support/paths.js";
import {
  envelope,
  h1Request,
  h2RawRequest,
  h2Request,
  startHealthProbe,
  statusOf,
  tcpExchange,
  type RawAnswer,
  type RawRequest,
} from "../support/raw-http.js";
import { startWorker, type WorkerHandle } from "../support/worker-process.js";

const TOKEN = "hostile-suite-token-0123456789";
const MiB = 1024 * 1024;
/** Small on purpose, so "past the limit" is cheap to send; the worker derives a read limit at or below it. */
const MAX_MESSAGE_BYTES = MiB;
const MAX_HEALTH_WATCHES = 4;
/** Short, so a body that never finishes is cut in a test's time; every other call here is far quicker. */
const REQUEST_TIMEOUT_MS = 3000;
const INFER = "/inference.GRPCInferenceService/ModelInfer";
const WATCH = "/grpc.health.v1.Health/Watch";

let open: WorkerHandle;
let guarded: WorkerHandle;

beforeAll(async () => {
  const env = {
    MAX_MESSAGE_BYTES: String(MAX_MESSAGE_BYTES),
    MAX_HEALTH_WATCHES: String(MAX_HEALTH_WATCHES),
    REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
    LOG_LEVEL: "warn",
  };
  [open, guarded] = await Promise.all([startWorker({ env }), startWorker({ env: { ...env, WORKER_TOKEN: TOKEN } })]);
  // Built once, before any health probe runs: gzipping 100 MiB takes the test process a while.
  gzipBomb();
});

afterAll(async () => {
  await Promise.all([open?.stop(), guarded?.stop()]);
});

const irisBinary = () => toBinary(ModelInferRequestSchema, create(ModelInferRequestSchema, irisRequest()));
/** Field 1 (model_name) announces 16 bytes and carries 1: no protobuf parser accepts it. */
const MALFORMED_PROTOBUF = Uint8Array.from([0x0a, 0x10, 0x01]);

/** 100 MiB of zeros, gzipped to about 100 KiB. */
let bomb: Buffer | undefined;
const gzipBomb = () => (bomb ??= gzipSync(Buffer.alloc(100 * MiB)));

type Transport = "h1" | "h2";
const send = (worker: WorkerHandle, transport: Transport, request: RawRequest): Promise<RawAnswer> =>
  transport === "h1" ? h1Request(worker.port, request) : h2Request(worker.url, request);

const contentTypes = {
  connect: "application/proto",
  connectJson: "application/json",
  grpc: "application/grpc+proto",
  grpcWeb: "application/grpc-web+proto",
} as const;

/** Codes a hostile request may get: anything that names the client's mistake; never internal, unknown or data_loss. */
const SERVER_FAULTS = new Set(["13", "2", "15", "internal", "unknown", "data_loss"]);

function expectClientError(answer: RawAnswer, code: { grpc: string; connect: string }, message?: RegExp) {
  const status = statusOf(answer);
  const described = `${answer.status} ${JSON.stringify(status)}`;
  expect(answer.status, described).toBeLessThan(500);
  expect(SERVER_FAULTS.has(status.code), described).toBe(false);
  expect(status.code, described).toBe(status.protocol === "grpc" ? code.grpc : code.connect);
  if (message) expect(status.message, described).toMatch(message);
}

async function expectAlive(worker: WorkerHandle) {
  expect(worker.process.exitCode, worker.output()).toBeNull();
  expect(worker.process.signalCode, worker.output()).toBeNull();
  const response = await fetch(`${worker.url}/v2/health/ready`);
  expect(response.status).toBe(200);
  expect(worker.output()).not.toMatch(/TypeError|uncaught|unhandled/i);
}

/** Runs hostile requests while a health probe runs beside them; the probe must never wait 1 s or fail. */
async function underProbe<T>(worker: WorkerHandle, attack: () => Promise<T>): Promise<T> {
  const probe = startHealthProbe(worker.url);
  let result: T;
  try {
    result = await attack();
  } finally {
    const report = await probe.stop();
    expect(report.failures).toEqual([]);
    expect(report.count).toBeGreaterThan(0);
    expect(report.slowestMs, `slowest health probe of ${report.count}`).toBeLessThan(1000);
  }
  await expectAlive(worker);
  return result;
}

const setups = [
  { name: "without WORKER_TOKEN", worker: () => open, auth: {} as Record<string, string> },
  { name: "with WORKER_TOKEN (caller holds it)", worker: () => guarded, auth: { authorization: `Bearer ${TOKEN}` } as Record<string, string> },
];

describe.each(setups)("worker $name: requests that used to end the process", ({ worker, auth }) => {
  it.each(["h1", "h2"] as const)("a gRPC-Web envelope announcing 4 GiB gets resource_exhausted over %s", async (transport) => {
    const answer = await underProbe(worker(), () =>
      send(worker(), transport, {
        path: INFER,
        headers: { "content-type": contentTypes.grpcWeb, ...auth },
        body: [envelope(0, new Uint8Array(1000), 0xffffffff)],
      }),
    );
    expectClientError(answer, { grpc: "8", connect: "resource_exhausted" }, /4294967295|larger than|limit/i);
  });

  it.each(["h1", "h2"] as const)("a chunked Connect body past the read limit gets resource_exhausted over %s", async (transport) => {
    const chunk = new Uint8Array(64 * 1024);
    const answer = await underProbe(worker(), () =>
      send(worker(), transport, {
        path: INFER,
        headers: { "content-type": contentTypes.connect, ...auth },
        body: Array.from({ length: (4 * MAX_MESSAGE_BYTES) / chunk.byteLength }, () => chunk),
      }),
    );
    expectClientError(answer, { grpc: "8", connect: "resource_exhausted" }, /limit|readMaxBytes|larger/i);
  });

  it.each(["h1", "h2"] as const)("a client that hangs up mid-body over %s leaves the worker serving", async (transport) => {
    await underProbe(worker(), async () => {
      for (const contentType of [contentTypes.connect, contentTypes.grpcWeb, contentTypes.grpc]) {
        if (transport === "h1" && contentType === contentTypes.grpc) continue;
        const hangUp = new AbortController();
        const request = send(worker(), transport, {
          path: INFER,
          headers: { "content-type": contentType, ...auth },
          body: [envelope(0, new Uint8Array(100), 200)],
          keepOpen: true,
          signal: hangUp.signal,
        });
        // The worker has the headers and part of the body and waits for the rest; the client drops the connection.
        await new Promise((r) => setTimeout(r, 200));
        hangUp.abort();
        await expect(request).rejects.toThrow(/hung up/);
      }
    });
  });

  it.each(["h1", "h2"] as const)("a body that never finishes is cut at REQUEST_TIMEOUT_MS with deadline_exceeded over %s", async (transport) => {
    const answers = await underProbe(worker(), () =>
      Promise.all(
        [contentTypes.connect, contentTypes.grpcWeb, ...(transport === "h2" ? [contentTypes.grpc] : [])].map((contentType) => {
          const hangUp = new AbortController();
          return answeredWhileOpen(
            send(worker(), transport, {
              path: INFER,
              headers: { "content-type": contentType, ...auth },
              body: [envelope(0, new Uint8Array(100), 200)],
              keepOpen: true,
              signal: hangUp.signal,
            }),
            REQUEST_TIMEOUT_MS * 5,
          ).finally(() => hangUp.abort());
        }),
      ),
    );
    for (const answer of answers) {
      const status = statusOf(answer);
      expect(status.code, JSON.stringify(status)).toBe(status.protocol === "grpc" ? "4" : "deadline_exceeded");
      expect(status.message).toMatch(/REQUEST_TIMEOUT_MS/);
    }
  });

  it("HTTP/1.0 without Host and HTTP/1.1 with a Host that is no authority get 400", async () => {
    const replies = await underProbe(worker(), async () => [
      await tcpExchange(worker().port, `POST ${INFER} HTTP/1.0\r\ncontent-type: application/json\r\ncontent-length: 2\r\n${headerLines(auth)}\r\n{}`),
      await tcpExchange(worker().port, `POST ${INFER} HTTP/1.1\r\nhost: a b\r\ncontent-type: application/json\r\ncontent-length: 2\r\n${headerLines(auth)}connection: close\r\n\r\n{}`),
    ]);
    for (const reply of replies) expect(reply).toMatch(/^HTTP\/1\.[01] 400 /);
  });

  it("an HTTP/2 request whose host is no URL authority gets 400", async () => {
    // Without :authority, and with a host connect cannot turn into a URL (nghttp2 itself refuses a request with neither).
    const frames = await underProbe(worker(), () =>
      h2RawRequest(worker().port, [
        [":method", "POST"],
        [":scheme", "http"],
        [":path", INFER],
        ["content-type", contentTypes.connectJson],
        ["host", "x:99999999"],
        ...Object.entries(auth),
      ]),
    );
    const answer = frames.find((frame) => frame.type === 0x1 && frame.streamId === 1);
    expect(answer, JSON.stringify(frames.map((f) => [f.type, f.flags, f.streamId]))).toBeDefined();
    // HPACK static table entry 12 is ":status: 400" (RFC 7541, appendix A); nghttp2 sends it indexed.
    expect(answer!.payload[0]).toBe(0x80 | 12);
  });
});

function headerLines(headers: Record<string, string>): string {
  return Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join("");
}

/** Resolves the answer, or fails if none comes within `ms` (the request body is still open then). */
async function answeredWhileOpen(request: Promise<RawAnswer>, ms = 10_000): Promise<RawAnswer> {
  let timer: NodeJS.Timeout | undefined;
  const silence = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms while the body stayed open: the worker waited for the body`)), ms);
  });
  try {
    return await Promise.race([request, silence]);
  } finally {
    clearTimeout(timer);
  }
}

describe("worker with WORKER_TOKEN: a caller without the token is refused on its headers", () => {
  const cases = [
    { name: "Connect over HTTP/1.1", transport: "h1", contentType: contentTypes.connect },
    { name: "Connect over h2c", transport: "h2", contentType: contentTypes.connect },
    { name: "gRPC over h2c", transport: "h2", contentType: contentTypes.grpc },
    { name: "gRPC-Web over HTTP/1.1", transport: "h1", contentType: contentTypes.grpcWeb },
    { name: "gRPC-Web over h2c", transport: "h2", contentType: contentTypes.grpcWeb },
  ] as const;
  it.each(cases)("$name: answered unauthenticated while a 50 MiB body is still arriving", async ({ transport, contentType }) => {
    for (const authorization of [undefined, "Bearer wrong", `Bearer ${TOKEN}x`]) {
      const hangUp = new AbortController();
      const answer = await underProbe(guarded, () =>
        answeredWhileOpen(
          send(guarded, transport, {
            path: INFER,
            headers: { "content-type": contentType, ...(authorization ? { authorization } : {}) },
            // Announces 50 MiB, sends 1 KiB and waits: only an answer on the headers can come back.
            body: [envelope(0, new Uint8Array(1024), 50 * MiB)],
            keepOpen: true,
            signal: hangUp.signal,
          }),
        ),
      ).finally(() => hangUp.abort());
      expectClientError(answer, { grpc: "16", connect: "unauthenticated" }, /WORKER_TOKEN/);
      if (contentType === contentTypes.connect) expect(answer.status).toBe(401);
    }
  });

  it("twenty-four tokenless gzip bombs are refused without being inflated", async () => {
    const answers = await underProbe(guarded, () =>
      Promise.all(
        Array.from({ length: 24 }, (_, i) =>
          send(guarded, i % 2 === 0 ? "h1" : "h2", {
            path: INFER,
            headers: { "content-type": contentTypes.connect, "content-encoding": "gzip" },
            body: [gzipBomb()],
          }),
        ),
      ),
    );
    for (const answer of answers) expectClientError(answer, { grpc: "16", connect: "unauthenticated" });
  });

  it("health (grpc.health.v1, /v2/health/*) and /metrics stay open without the token", async () => {
    const health = await h2Request(guarded.url, {
      path: "/grpc.health.v1.Health/Check",
      headers: { "content-type": contentTypes.grpc },
      body: [envelope(0, new Uint8Array(0))],
    });
    expect(statusOf(health).code).toBe("0");
    expect((await fetch(`${guarded.url}/v2/health/live`)).status).toBe(200);
    expect((await fetch(`${guarded.url}/metrics`)).status).toBe(200);
  });
});

describe.each(setups)("worker $name: malformed and mis-typed requests get the client's error", ({ worker, auth }) => {
  const binaryCases = [
    { name: "Connect binary over HTTP/1.1", transport: "h1", contentType: contentTypes.connect, framed: false },
    { name: "Connect binary over h2c", transport: "h2", contentType: contentTypes.connect, framed: false },
    { name: "gRPC over h2c", transport: "h2", contentType: contentTypes.grpc, framed: true },
    { name: "gRPC-Web over HTTP/1.1", transport: "h1", contentType: contentTypes.grpcWeb, framed: true },
    { name: "gRPC-Web over h2c", transport: "h2", contentType: contentTypes.grpcWeb, framed: true },
  ] as const;

  it.each(binaryCases)("$name: bytes that are no protobuf message → invalid_argument", async ({ transport, contentType, framed }) => {
    const answer = await underProbe(worker(), () =>
      send(worker(), transport, {
        path: INFER,
        headers: { "content-type": contentType, ...auth },
        body: [framed ? envelope(0, MALFORMED_PROTOBUF) : MALFORMED_PROTOBUF],
      }),
    );
    expectClientError(answer, { grpc: "3", connect: "invalid_argument" }, /not a valid message/);
  });

  it.each(binaryCases.filter((c) => c.framed))("$name: a frame flagged compressed without grpc-encoding → invalid_argument", async ({ transport, contentType }) => {
    const answer = await underProbe(worker(), () =>
      send(worker(), transport, { path: INFER, headers: { "content-type": contentType, ...auth }, body: [envelope(1, irisBinary())] }),
    );
    expectClientError(answer, { grpc: "3", connect: "invalid_argument" }, /compressed/);
  });

  it.each(binaryCases)("$name: a gzip bomb → resource_exhausted naming the limit", async ({ transport, contentType, framed }) => {
    const encoding: Record<string, string> = framed ? { "grpc-encoding": "gzip" } : { "content-encoding": "gzip" };
    const answer = await underProbe(worker(), () =>
      send(worker(), transport, {
        path: INFER,
        headers: { "content-type": contentType, ...encoding, ...auth },
        body: [framed ? envelope(1, gzipBomb()) : gzipBomb()],
      }),
    );
    expectClientError(answer, { grpc: "8", connect: "resource_exhausted" }, /after decompression/);
  });

  it.each(binaryCases)("$name: gzip that does not inflate → invalid_argument", async ({ transport, contentType, framed }) => {
    const encoding: Record<string, string> = framed ? { "grpc-encoding": "gzip" } : { "content-encoding": "gzip" };
    const truncated = gzipSync(irisBinary()).subarray(0, 12);
    const answer = await underProbe(worker(), () =>
      send(worker(), transport, {
        path: INFER,
        headers: { "content-type": contentType, ...encoding, ...auth },
        body: [framed ? envelope(1, truncated) : truncated],
      }),
    );
    expectClientError(answer, { grpc: "3", connect: "invalid_argument" }, /decompress/);
  });

  it.each([
    ["a number where a string belongs", '{"modelName": 5}'],
    ["a string where a list belongs", '{"modelName": "iris", "inputs": "many"}'],
    ["an unknown field", '{"modelName": "iris", "mystery": true}'],
    ["JSON that does not end", '{"modelName": "iris", "inputs": ['],
    ["50,000 nested lists", `{"modelName": "iris", "inputs": [{"name": "input", "contents": {"fp32Contents": ${"[".repeat(50_000)}${"]".repeat(50_000)}}}]}`],
    ["50,000 nested objects", `{"modelName": "iris", "parameters": ${'{"a":'.repeat(50_000)}1${"}".repeat(50_000)}}`],
  ])("Connect JSON with %s → invalid_argument", async (_, body) => {
    const answer = await underProbe(worker(), () =>
      send(worker(), "h1", { path: INFER, headers: { "content-type": contentTypes.connectJson, ...auth }, body: [body] }),
    );
    expectClientError(answer, { grpc: "3", connect: "invalid_argument" });
    expect(answer.status).toBe(400);
  });

  it("a content type no protocol speaks → 415; a GET on an RPC → 405; an unknown path → 404", async () => {
    const [text, get, unknown] = await underProbe(worker(), () =>
      Promise.all([
        send(worker(), "h1", { path: INFER, headers: { "content-type": "text/plain", ...auth }, body: ["hello"] }),
        send(worker(), "h1", { method: "GET", path: INFER, headers: auth }),
        send(worker(), "h2", { path: "/inference.GRPCInferenceService/Nope", headers: { "content-type": contentTypes.grpc, ...auth }, body: [MALFORMED_PROTOBUF] }),
      ]),
    );
    expect(text.status).toBe(415);
    expect(get.status).toBe(405);
    expect(unknown.status).toBe(404);
  });

  it("a flood of 300 concurrent hostile requests over both transports is answered, health within 1 s throughout", async () => {
    const hostile: RawRequest[] = [
      { path: INFER, headers: { "content-type": contentTypes.connect, ...auth }, body: [MALFORMED_PROTOBUF] },
      { path: INFER, headers: { "content-type": contentTypes.grpcWeb, ...auth }, body: [envelope(0, new Uint8Array(10), 0xffffffff)] },
      { path: INFER, headers: { "content-type": contentTypes.connectJson, ...auth }, body: ['{"modelName": ['] },
      { path: INFER, headers: { "content-type": contentTypes.connect, "content-encoding": "gzip", ...auth }, body: [gzipSync(Buffer.alloc(4 * MiB))] },
    ];
    const answers = await underProbe(worker(), () =>
      Promise.all(Array.from({ length: 300 }, (_, i) => send(worker(), i % 3 === 0 ? "h2" : "h1", hostile[i % hostile.length]!))),
    );
    for (const answer of answers) {
      const status = statusOf(answer);
      expect(answer.status, JSON.stringify(status)).toBeLessThan(500);
      expect(SERVER_FAULTS.has(status.code), JSON.stringify(status)).toBe(false);
    }
  });
});

describe("worker under a stream flood on one HTTP/2 connection", () => {
  it("300 streams that never finish their bodies (past MAX_CONCURRENT_STREAMS=256) are each answered and closed, so the queued ones get their turn; health answers throughout", async () => {
    const session = http2.connect(open.url);
    session.on("error", () => undefined);
    const outcomes: Promise<string>[] = [];
    await underProbe(open, async () => {
      for (let i = 0; i < 300; i++) {
        const stream = session.request({ ":method": "POST", ":path": INFER, "content-type": contentTypes.grpcWeb });
        stream.write(envelope(0, new Uint8Array(10), 100));
        stream.resume();
        let answered = false;
        stream.on("end", () => (answered = true));
        stream.on("error", () => undefined);
        outcomes.push(new Promise((resolve) => stream.on("close", () => resolve(`${answered ? "answered" : "unanswered"}, rst ${stream.rstCode}`))));
      }
      // The first 256 are answered deadline_exceeded at REQUEST_TIMEOUT_MS and closed with NO_ERROR one
      // REQUEST_TIMEOUT_MS later (the client never ends them); only then do the 44 queued ones start, and end the same way.
      const ends = await Promise.all(outcomes);
      expect(new Set(ends)).toEqual(new Set([`answered, rst ${http2.constants.NGHTTP2_NO_ERROR}`]));
    });
    session.destroy();
  }, 90_000);
});

describe("worker health Watch streams are capped (MAX_HEALTH_WATCHES)", () => {
  it("holds the limit, refuses one past it with resource_exhausted, and takes a new one once a watch ends", async () => {
    const health = createClient(Health, createConnectTransport({ baseUrl: open.url, httpVersion: "2" }));
    const first = async (signal: AbortSignal) => {
      for await (const message of health.watch({ service: "" }, { signal })) return message.status;
    };
    // At the limit: every watch gets its first status and stays open.
    const held = Array.from({ length: MAX_HEALTH_WATCHES }, () => new AbortController());
    const holding = held.map((w) => health.watch({ service: "" }, { signal: w.signal })[Symbol.asyncIterator]());
    for (const it of holding) expect((await it.next()).done).toBe(false);
    // One past the limit is refused, with the variable to change in the message.
    await expect(first(new AbortController().signal)).rejects.toMatchObject({ code: Code.ResourceExhausted, rawMessage: expect.stringMatching(/MAX_HEALTH_WATCHES=4/) });
    // Check is never limited.
    expect((await health.check({ service: "" })).status).toBe(1);
    // A watch that ends frees its place.
    held[0]!.abort();
    await holding[0]!.next().catch(() => undefined);
    await waitUntil(async () => (await first(AbortSignal.timeout(5000)).catch(() => undefined)) !== undefined);
    for (const w of held) w.abort();
    await expectAlive(open);
  });
});

/** Retries `check` on events (each try is a full round trip), up to a generous bound. */
async function waitUntil(check: () => Promise<boolean>, tries = 50): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("condition not met");
}

/** An off-the-shelf @grpc/grpc-js client, as a Triton user would have, with channel options a hostile caller may set. */
function grpcJs(worker: WorkerHandle, options: grpc.ChannelOptions = {}) {
  const definition = protoLoader.loadSync(join(ROOT, "proto/inference/grpc_service.proto"), { keepCase: true, longs: String, defaults: true });
  const loaded = grpc.loadPackageDefinition(definition) as unknown as { inference: { GRPCInferenceService: grpc.ServiceClientConstructor } };
  const client = new loaded.inference.GRPCInferenceService(`127.0.0.1:${worker.port}`, grpc.credentials.createInsecure(), {
    "grpc.max_send_message_length": -1,
    ...options,
  });
  const call = (request: object, metadata = new grpc.Metadata()) =>
    new Promise<grpc.ServiceError | undefined>((resolve) =>
      (client as unknown as Record<string, Function>).ModelInfer!.call(client, request, metadata, (error: grpc.ServiceError | null) => resolve(error ?? undefined)),
    );
  return { call, close: () => client.close() };
}

describe("worker under an off-the-shelf gRPC client (@grpc/grpc-js)", () => {
  const huge = { model_name: "iris", inputs: [{ name: "input", datatype: "FP32", shape: [1, 4] }], raw_input_contents: [Buffer.alloc(4 * MAX_MESSAGE_BYTES)] };

  it("without the token: UNAUTHENTICATED, even for a message past the read limit", async () => {
    const client = grpcJs(guarded);
    try {
      const errors = await underProbe(guarded, () => Promise.all([client.call(irisRequestJs()), client.call(huge)]));
      for (const error of errors) {
        expect(error?.code).toBe(grpc.status.UNAUTHENTICATED);
        expect(error?.details).toMatch(/WORKER_TOKEN/);
      }
    } finally {
      client.close();
    }
  });

  it("a message past the read limit, plain or gzip-compressed: RESOURCE_EXHAUSTED naming the limit", async () => {
    const cases: [grpc.ChannelOptions, RegExp][] = [
      [{}, /larger than configured readMaxBytes/],
      // 4 MiB of zeros travel as a few KiB of gzip; the limit holds after inflating.
      [{ "grpc.default_compression_algorithm": 2 }, /after decompression/],
    ];
    for (const [options, message] of cases) {
      const client = grpcJs(open, options);
      try {
        const error = await underProbe(open, () => client.call(huge));
        expect(error?.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
        expect(error?.details).toMatch(message);
      } finally {
        client.close();
      }
    }
  });
});

function irisRequestJs() {
  return { model_name: "iris", inputs: [{ name: "input", datatype: "FP32", shape: [1, 4], contents: { fp32_contents: [5.1, 3.5, 1.4, 0.2] } }] };
}

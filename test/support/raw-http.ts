// Hand-made requests for hostile-input tests: what an attacker sends is not
// what a well-behaved client library would let us send (envelopes announcing
// 4 GiB, bodies that never end, HTTP/1.0 without Host, missing :authority), so
// these talk HTTP/1.1 and HTTP/2 directly and read every answer in full:
// status, headers, body and trailers, plus the gRPC / Connect code in it.
import http from "node:http";
import http2 from "node:http2";
import net from "node:net";
import { setTimeout as sleep } from "node:timers/promises";

export interface RawAnswer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Buffer;
  readonly trailers: Record<string, string | string[] | undefined>;
}

export interface RawRequest {
  readonly method?: string;
  readonly path: string;
  readonly headers?: Record<string, string>;
  /** Sent in order; `undefined` entries are not sent (the body stays open until the answer comes). */
  readonly body?: readonly (Uint8Array | string)[];
  /** Leave the request body open: the answer must come without the server reading it all. */
  readonly keepOpen?: boolean;
  /** Aborting drops the connection (a client that hangs up). */
  readonly signal?: AbortSignal;
}

/** One request over its own HTTP/1.1 connection. */
export function h1Request(port: number, request: RawRequest): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: "127.0.0.1", port, method: request.method ?? "POST", path: request.path, headers: request.headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => {
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), trailers: res.trailers });
          req.destroy();
        });
        res.on("error", reject);
      },
    );
    // A server may answer and close before it has read an upload it refused;
    // the answer is what counts, so write errors after it are not failures.
    let answered = false;
    req.once("response", () => (answered = true));
    request.signal?.addEventListener("abort", () => req.destroy(new Error("client hung up")), { once: true });
    req.on("error", (error) => {
      if (!answered) reject(error);
    });
    void writeAll(req, request.body ?? [], !request.keepOpen);
  });
}

/** Writes chunks honouring backpressure (a paced upload, as a real client sends it). */
async function writeAll(target: NodeJS.WritableStream & { destroyed?: boolean }, chunks: readonly (Uint8Array | string)[], end: boolean) {
  for (const chunk of chunks) {
    if (target.destroyed) return;
    if (!target.write(chunk)) {
      await new Promise<void>((resolve) => {
        const done = () => {
          target.off("drain", done);
          target.off("close", done);
          resolve();
        };
        target.on("drain", done);
        target.on("close", done);
      });
    }
  }
  if (end && !target.destroyed) target.end();
}

/** One request over its own HTTP/2 (h2c) connection. */
export function h2Request(url: string, request: RawRequest): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(url);
    session.on("error", reject);
    const stream = session.request({ ":method": request.method ?? "POST", ":path": request.path, ...request.headers });
    request.signal?.addEventListener("abort", () => session.destroy(new Error("client hung up")), { once: true });
    let status = 0;
    let headers: RawAnswer["headers"] = {};
    let trailers: RawAnswer["trailers"] = {};
    const chunks: Buffer[] = [];
    stream.on("response", (h) => {
      status = Number(h[":status"]);
      headers = h;
    });
    stream.on("trailers", (t) => (trailers = t));
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    stream.on("end", () => {
      resolve({ status, headers, body: Buffer.concat(chunks), trailers });
      session.destroy();
    });
    stream.on("error", (error) => {
      // A reset after a complete answer is how HTTP/2 stops an unread upload.
      if (status !== 0 && stream.rstCode === http2.constants.NGHTTP2_NO_ERROR) return;
      session.destroy();
      reject(error);
    });
    void writeAll(stream, request.body ?? [], !request.keepOpen);
  });
}

/**
 * Sends raw bytes on a fresh TCP connection and returns what came back
 * until the server closed it (or `waitMs` passed without more bytes).
 */
export async function tcpExchange(port: number, bytes: string | Uint8Array, waitMs = 5000): Promise<string> {
  const socket = net.connect(port, "127.0.0.1");
  const received: Buffer[] = [];
  socket.on("data", (chunk: Buffer) => received.push(chunk));
  const closed = new Promise<void>((resolve) => {
    socket.on("close", () => resolve());
    socket.on("error", () => resolve());
  });
  socket.write(bytes);
  await Promise.race([closed, sleep(waitMs)]);
  socket.destroy();
  return Buffer.concat(received).toString("latin1");
}

/** A length-prefixed message (gRPC, gRPC-Web, Connect streaming): flags, a big-endian length, the payload. */
export function envelope(flags: number, payload: Uint8Array, announcedLength = payload.byteLength): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt8(flags, 0);
  head.writeUInt32BE(announcedLength, 1);
  return Buffer.concat([head, payload]);
}

/** Splits a body into its envelopes (gRPC-Web trailers and Connect end-stream messages included). */
export function envelopes(body: Buffer): { flags: number; data: Buffer }[] {
  const out: { flags: number; data: Buffer }[] = [];
  for (let at = 0; at + 5 <= body.length; ) {
    const length = body.readUInt32BE(at + 1);
    out.push({ flags: body[at]!, data: body.subarray(at + 5, at + 5 + length) });
    at += 5 + length;
  }
  return out;
}

/**
 * The status an answer carries, whatever the protocol: gRPC (headers or
 * trailers), gRPC-Web (trailers-only headers or the trailer envelope),
 * Connect streaming (end-stream envelope) or Connect unary (JSON body).
 */
export function statusOf(answer: RawAnswer): { protocol: "grpc" | "connect"; code: string; message: string } {
  const fromHeaders = (h: RawAnswer["headers"]) =>
    h["grpc-status"] === undefined
      ? undefined
      : { protocol: "grpc" as const, code: String(h["grpc-status"]), message: decodeURIComponent(String(h["grpc-message"] ?? "")) };
  const grpc = fromHeaders(answer.trailers) ?? fromHeaders(answer.headers);
  if (grpc) return grpc;
  const contentType = String(answer.headers["content-type"] ?? "");
  for (const { flags, data } of envelopes(answer.body)) {
    if (contentType.startsWith("application/grpc-web") && (flags & 0x80) !== 0) {
      const trailer = Object.fromEntries(
        data
          .toString()
          .split("\r\n")
          .filter((line) => line.includes(":"))
          .map((line) => [line.slice(0, line.indexOf(":")).trim().toLowerCase(), line.slice(line.indexOf(":") + 1).trim()]),
      );
      return fromHeaders(trailer) ?? { protocol: "grpc", code: "?", message: data.toString() };
    }
    if (contentType.startsWith("application/connect+") && (flags & 0x02) !== 0) {
      const end = JSON.parse(data.toString()) as { error?: { code: string; message?: string } };
      return { protocol: "connect", code: end.error?.code ?? "ok", message: end.error?.message ?? "" };
    }
  }
  if (answer.status === 200) return { protocol: "connect", code: "ok", message: "" };
  try {
    const json = JSON.parse(answer.body.toString()) as { code?: string; message?: string; error?: string };
    return { protocol: "connect", code: json.code ?? String(answer.status), message: json.message ?? json.error ?? "" };
  } catch {
    return { protocol: "connect", code: String(answer.status), message: answer.body.toString().slice(0, 200) };
  }
}

export interface ProbeReport {
  readonly count: number;
  readonly slowestMs: number;
  readonly failures: readonly string[];
}

/**
 * Probes `GET /v2/health/ready` back to back while hostile requests run, so a
 * test can show the worker kept answering its orchestrator throughout.
 */
export function startHealthProbe(baseUrl: string): { stop(): Promise<ProbeReport> } {
  let running = true;
  let count = 0;
  let slowestMs = 0;
  const failures: string[] = [];
  const loop = (async () => {
    while (running) {
      const started = performance.now();
      try {
        const response = await fetch(`${baseUrl}/v2/health/ready`, { signal: AbortSignal.timeout(5000) });
        await response.arrayBuffer();
        if (response.status !== 200) failures.push(`status ${response.status}`);
      } catch (error) {
        failures.push(String(error));
      }
      slowestMs = Math.max(slowestMs, performance.now() - started);
      count++;
      await sleep(50);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { count, slowestMs, failures };
    },
  };
}

export interface H2Frame {
  readonly type: number;
  readonly flags: number;
  readonly streamId: number;
  readonly payload: Buffer;
}

const H2_PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

function h2Frame(type: number, flags: number, streamId: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head.writeUInt8(type, 3);
  head.writeUInt8(flags, 4);
  head.writeUInt32BE(streamId, 5);
  return Buffer.concat([head, payload]);
}

/**
 * One HTTP/2 request written frame by frame, for header sets no client
 * library sends (no :authority, no host). Header names and values go as HPACK
 * literals without indexing; the request has no body. Returns the frames the
 * server sent until it ended stream 1, went away, or `waitMs` passed.
 */
export async function h2RawRequest(port: number, headers: readonly [string, string][], waitMs = 5000): Promise<H2Frame[]> {
  const literal = (text: string) => {
    const bytes = Buffer.from(text);
    if (bytes.length > 126) throw new Error("h2RawRequest: keep header names and values under 127 bytes");
    return Buffer.concat([Buffer.from([bytes.length]), bytes]);
  };
  const block = Buffer.concat(headers.map(([name, value]) => Buffer.concat([Buffer.from([0]), literal(name), literal(value)])));
  const socket = net.connect(port, "127.0.0.1");
  const frames: H2Frame[] = [];
  let pending = Buffer.alloc(0);
  const done = new Promise<void>((resolve) => {
    socket.on("data", (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 9 && pending.length >= 9 + pending.readUIntBE(0, 3)) {
        const length = pending.readUIntBE(0, 3);
        const frame = { type: pending[3]!, flags: pending[4]!, streamId: pending.readUInt32BE(5) & 0x7fffffff, payload: pending.subarray(9, 9 + length) };
        pending = pending.subarray(9 + length);
        frames.push(frame);
        // SETTINGS without ACK gets its ACK; END_STREAM on stream 1, RST_STREAM or GOAWAY ends the exchange.
        if (frame.type === 0x4 && (frame.flags & 0x1) === 0) socket.write(h2Frame(0x4, 0x1, 0, Buffer.alloc(0)));
        if ((frame.streamId === 1 && (frame.flags & 0x1) !== 0 && frame.type <= 0x1) || frame.type === 0x3 || frame.type === 0x7) resolve();
      }
    });
    socket.on("close", () => resolve());
    socket.on("error", () => resolve());
  });
  socket.write(Buffer.concat([Buffer.from(H2_PREFACE), h2Frame(0x4, 0, 0, Buffer.alloc(0)), h2Frame(0x1, 0x4 | 0x1, 1, block)]));
  await Promise.race([done, sleep(waitMs)]);
  socket.destroy();
  return frames;
}

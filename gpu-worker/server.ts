// One port for everything: h2c (gRPC, Connect, gRPC-Web over HTTP/2) and
// HTTP/1.1 (Connect and gRPC-Web over fetch, as `wrangler dev`/workerd speak
// it), plus /metrics and the OIP health probes.
//
// Node 20's http2 server only falls back to HTTP/1.1 after TLS ALPN, not on
// cleartext, so the listening HTTP/1.1 server looks at the first bytes of
// each connection: the HTTP/2 connection preface goes to the http2 server,
// everything else stays with the HTTP/1.1 server. The HTTP/1.1 server is the
// listener so its own headers/request timeouts stay in force.
import http from "node:http";
import http2 from "node:http2";
import type { AddressInfo, Socket } from "node:net";
import { Code, ConnectError } from "@connectrpc/connect";
import { Health } from "../gen/grpc/health/v1/health_pb.js";
import { GRPCInferenceService } from "../gen/inference/grpc_service_pb.js";
import { bearerTokenGate } from "./auth.js";
import { CancelRegistry } from "./cancel/registry.js";
import { disconnectContext, watchHttp1Disconnect } from "./client-gone.js";
import type { WorkerConfig } from "./config.js";
import { healthService } from "./health.js";
import { plainRoutes } from "./http-routes.js";
import { settleUnreadBody } from "./http/request-body.js";
import { rpcHandler, type RequestHandler } from "./http/rpc-handler.js";
import { log } from "./log.js";
import { requestByteLimit } from "./model/limits.js";
import type { ModelRepository } from "./model/repository.js";
import { inferenceService } from "./routes.js";
import { ServingState } from "./state.js";

const H2_PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");

export interface RunningServer {
  /** e.g. http://127.0.0.1:8001 */
  readonly url: string;
  readonly port: number;
  readonly state: ServingState;
  /** Bytes a request may have: derived from the models, capped by MAX_MESSAGE_BYTES. */
  readonly readMaxBytes: number;
  /**
   * Graceful stop: mark not ready, refuse new connections and RPCs, let
   * in-flight requests finish for up to `timeoutMs` (default DRAIN_TIMEOUT_MS),
   * then cut what remains. Model sessions stay open; the repository owner closes them.
   */
  drain(timeoutMs?: number): Promise<void>;
  /** Immediate stop: drain(0). */
  close(): Promise<void>;
}

export async function startServer(config: WorkerConfig, repository: ModelRepository): Promise<RunningServer> {
  const state = new ServingState();
  const shutdown = new AbortController();
  const readMaxBytes = requestByteLimit(repository.configs(), config.maxMessageBytes, config);
  // No call lives past REQUEST_TIMEOUT_MS, so a cancellation need not be
  // remembered longer; 10,000 remembered ids is ~1 MB at the longest ids.
  const calls = new CancelRegistry({ rememberMs: config.requestTimeoutMs, maxRemembered: 10_000 });

  const tokenGate = config.token === undefined ? undefined : bearerTokenGate(config.token);
  const rpc = rpcHandler({
    routes: (router) => {
      router.service(GRPCInferenceService, inferenceService(repository, state, calls, config));
      router.service(Health, healthService(state, { maxWatches: config.maxHealthWatches }));
    },
    // On the headers alone, before any byte of the body is read or inflated.
    admit: tokenGate && ((service, req) => tokenGate(service, req.headers.authorization)),
    readMaxBytes,
    writeMaxBytes: config.maxMessageBytes,
    shutdownSignal: shutdown.signal,
    contextValues: disconnectContext,
    bodyDeadlineMs: config.requestTimeoutMs,
    fallback: plainRoutes(state, repository.metrics.registry),
  });

  // In-flight requests, so a drain knows when it is done.
  let inFlight = 0;
  let onIdle: (() => void) | undefined;
  const handler: RequestHandler = (req, res) => {
    inFlight++;
    res.once("close", () => {
      if (--inFlight === 0) onIdle?.();
    });
    // A body left unread (refused on its headers, or past a limit) is dealt with once the answer is out.
    settleUnreadBody(req, res, { discardLimitBytes: readMaxBytes, graceMs: config.requestTimeoutMs });
    try {
      if (req.httpVersionMajor === 1) {
        // An HTTP/1.1 keep-alive connection would otherwise outlive the drain.
        if (!state.ready) res.setHeader("connection", "close");
        watchHttp1Disconnect(req as http.IncomingMessage, res as http.ServerResponse);
      }
      rpc(req, res);
    } catch (error) {
      // Whatever a request does, it must not throw out of the server's
      // "request" event: that would end the process for every caller.
      log.error(`request ${req.method} ${req.url} failed before it was answered: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      if (!res.headersSent && !res.destroyed) {
        res.writeHead(500, { "content-type": "application/json" });
        res.end(JSON.stringify({ code: "internal", message: "internal error" }));
      } else {
        res.destroy();
      }
    }
  };

  const h2 = http2.createServer({ settings: { maxConcurrentStreams: config.maxConcurrentStreams } }, handler);
  h2.setTimeout(config.http2IdleTimeoutMs);
  const sessions = new Set<http2.ServerHttp2Session>();
  h2.on("session", (session) => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
  });
  h2.on("sessionError", (error) => log.debug(`http2 session error: ${error.message}`));

  const h1 = http.createServer(
    {
      headersTimeout: config.headersTimeoutMs,
      requestTimeout: Math.max(config.requestTimeoutMs, config.headersTimeoutMs),
      keepAliveTimeout: config.http2IdleTimeoutMs,
    },
    handler,
  );
  const sockets = new Set<Socket>();
  const http1Connection = h1.listeners("connection")[0] as (socket: Socket) => void;
  h1.removeListener("connection", http1Connection);
  h1.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    // Connection resets are routine; without a listener they would crash the process.
    socket.on("error", (error) => log.debug(`socket error: ${error.message}`));
    sniffProtocol(socket, config.headersTimeoutMs, (isHttp2) => {
      if (isHttp2) {
        h2.emit("connection", socket);
      } else {
        http1Connection.call(h1, socket);
        socket.resume();
      }
    });
  });

  await new Promise<void>((resolve, reject) => {
    h1.once("error", reject);
    h1.listen(config.port, config.host, () => {
      h1.off("error", reject);
      resolve();
    });
  });
  const { port } = h1.address() as AddressInfo;
  const host = config.host.includes(":") ? `[${config.host}]` : config.host;

  let drained: Promise<void> | undefined;
  const drain = (timeoutMs = config.drainTimeoutMs): Promise<void> =>
    (drained ??= (async () => {
      state.startDraining();
      const closed = new Promise<void>((resolve) => h1.close(() => resolve()));
      for (const session of sessions) session.close();
      h1.closeIdleConnections();
      if (inFlight > 0) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, timeoutMs);
          onIdle = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
      if (inFlight > 0) {
        log.warn(`drain timed out after ${timeoutMs} ms with ${inFlight} request(s) in flight; cancelling them`);
        shutdown.abort(new ConnectError("the worker is shutting down", Code.Unavailable));
        for (const model of repository.models()) model.abandonQueue();
        // Give the aborted handlers a moment to answer before the sockets go.
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      for (const session of sessions) session.destroy();
      for (const socket of sockets) socket.destroy();
      await closed;
    })());

  return {
    url: `http://${host}:${port}`,
    port,
    state,
    readMaxBytes,
    drain,
    close: () => drain(0),
  };
}

/**
 * Reads until the bytes seen either diverge from the HTTP/2 preface or
 * complete it, then puts them back for the chosen server. A connection that
 * sends nothing within the headers timeout is dropped.
 */
function sniffProtocol(socket: Socket, timeoutMs: number, route: (isHttp2: boolean) => void): void {
  let seen = Buffer.alloc(0);
  const onTimeout = () => socket.destroy();
  socket.setTimeout(timeoutMs, onTimeout);
  const onData = (chunk: Buffer) => {
    seen = Buffer.concat([seen, chunk]);
    const n = Math.min(seen.length, H2_PREFACE.length);
    const isHttp2 = seen.subarray(0, n).equals(H2_PREFACE.subarray(0, n));
    if (isHttp2 && seen.length < H2_PREFACE.length) return;
    socket.off("data", onData);
    // The chosen server sets its own timeouts; ours must not fire on them later.
    socket.off("timeout", onTimeout);
    socket.setTimeout(0);
    socket.pause();
    socket.unshift(seen);
    route(isHttp2);
  };
  socket.on("data", onData);
}

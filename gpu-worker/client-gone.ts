// HTTP/1.1 disconnects, made visible to handlers. A client that gives up (an
// aborted fetch, or the edge dropping its subrequest) closes its side of the
// connection; Node keeps such half-open HTTP/1.1 sockets until the answer is
// written, so connect-node's own signal would only fire after the run. The
// server watches for the end of input mid-call and aborts this signal, which
// handlers join with connect's (HTTP/2 resets already reach connect's signal).
import { Code, ConnectError, createContextKey, createContextValues, type ContextValues } from "@connectrpc/connect";
import type { IncomingMessage, ServerResponse } from "node:http";

/** The default: a call that is not watched (HTTP/2, where resets reach connect's own signal). */
export const NO_DISCONNECT_WATCH = new AbortController().signal;

export const clientGoneKey = createContextKey<AbortSignal>(NO_DISCONNECT_WATCH, { description: "HTTP/1.1 client disconnect" });

const signals = new WeakMap<object, AbortSignal>();

/** Watches one HTTP/1.1 call; the signal aborts if input ends before the answer is written. */
export function watchHttp1Disconnect(req: IncomingMessage, res: ServerResponse): void {
  const gone = new AbortController();
  signals.set(req, gone.signal);
  const onEnd = () => {
    if (!res.writableEnded) gone.abort(new ConnectError("the client closed the connection", Code.Canceled));
  };
  // Held here: Node clears req.socket when the connection is torn down, which
  // is exactly when "close" fires (issue 9: reading req.socket there crashed
  // the process on any request connect-node refused mid-body).
  const socket = req.socket;
  socket.once("end", onEnd);
  res.once("close", () => socket.off("end", onEnd));
}

/** connect-node's `contextValues` hook: hands the call its disconnect signal. */
export function disconnectContext(req: object): ContextValues {
  return createContextValues().set(clientGoneKey, signals.get(req) ?? NO_DISCONNECT_WATCH);
}

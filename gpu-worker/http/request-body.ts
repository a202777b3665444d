// How the worker reads request bodies, and what it does with a body it did
// not read to the end.
//
// connect-node's own reader destroys the request when connect stops reading
// early (a body past readMaxBytes, an envelope announcing 4 GiB). On HTTP/1.1
// that destroys the socket, on HTTP/2 it resets the stream, both before the
// error answer is written: the caller sees a reset instead of
// resource_exhausted, and (before client-gone.ts held on to its socket) the
// teardown crashed the process. Here an early stop leaves the request open,
// the answer goes out, and only then is the rest of the body dealt with.
import type { IncomingMessage, ServerResponse } from "node:http";
import { Code, ConnectError } from "@connectrpc/connect";
import { constants, type Http2ServerRequest, type Http2ServerResponse } from "node:http2";

type NodeRequest = IncomingMessage | Http2ServerRequest;
type NodeResponse = ServerResponse | Http2ServerResponse;

/**
 * The body as connect reads it; stopping early does not destroy the request.
 * The whole body must arrive within `deadlineMs` (REQUEST_TIMEOUT_MS): the
 * call's own deadline starts only once the message is parsed, HTTP/2 has no
 * request timeout of its own, and a stream that trickles its body would
 * otherwise hold its place for ever.
 */
export function requestBody(req: NodeRequest, deadlineMs: number): AsyncIterable<Uint8Array> {
  return {
    [Symbol.asyncIterator]() {
      const chunks: AsyncIterator<Uint8Array> = req.iterator({ destroyOnReturn: false });
      let timer: NodeJS.Timeout | undefined;
      const expired = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new ConnectError(`the request body did not arrive within ${deadlineMs} ms (REQUEST_TIMEOUT_MS)`, Code.DeadlineExceeded)),
          deadlineMs,
        );
      });
      expired.catch(() => undefined); // raced below; never left unhandled
      const stop = () => clearTimeout(timer);
      return {
        async next() {
          try {
            const result = await Promise.race([chunks.next(), expired]);
            if (result.done === true) stop();
            return result;
          } catch (error) {
            stop();
            throw error;
          }
        },
        async return(value?: unknown) {
          stop();
          return (await chunks.return?.(value)) ?? { done: true, value: undefined };
        },
      };
    },
  };
}

/**
 * Deals with a body the server stopped reading (refused before it was read,
 * or past a limit) once the answer is out, so it is never buffered and never
 * holds a connection or stream for long:
 * - HTTP/1.1: the rest is read and thrown away so the answer is not lost to a
 *   TCP reset and the connection stays usable; past `discardLimitBytes` the
 *   connection is closed instead (HTTP/1.1 has no way to stop an upload),
 *   with a lingering close so the answer still reaches the client. Runs
 *   before Node's own "finish" handler, which would discard without a bound.
 * - HTTP/2: flow control already bounds what can arrive unread (one stream
 *   window), so nothing is read; if the client has not ended its side within
 *   `graceMs`, the stream is closed with RST_STREAM(NO_ERROR), which stops an
 *   upload without failing the call (RFC 9113 §8.1). Not at once: the
 *   stream's "finish" comes before gRPC's trailers are sent. Node closes a
 *   stream whose body nobody started reading by itself; one that connect
 *   stopped reading would otherwise stay half-closed and hold its place under
 *   MAX_CONCURRENT_STREAMS for as long as the client likes.
 */
export function settleUnreadBody(req: NodeRequest, res: NodeResponse, options: { discardLimitBytes: number; graceMs: number }): void {
  if ("stream" in req) {
    const stream = req.stream;
    stream.once("finish", () => {
      if (stream.readableEnded || stream.closed || stream.destroyed) return;
      const close = () => {
        if (!stream.closed && !stream.destroyed) stream.close(constants.NGHTTP2_NO_ERROR);
      };
      const timer = setTimeout(close, options.graceMs).unref();
      stream.once("close", () => clearTimeout(timer));
    });
    return;
  }
  res.prependOnceListener("finish", () => {
    const socket = req.socket;
    if (!req.complete && socket) discard(req, options.discardLimitBytes, () => lingerThenClose(socket));
  });
}

/**
 * How long a connection past the discard limit keeps being read (and
 * thrown away) after its FIN, before it is destroyed.
 */
const LINGER_MS = 2_000;

function discard(req: NodeRequest, limitBytes: number, onPastLimit: () => void): void {
  let discarded = 0;
  let past = false;
  req.on("data", (chunk: Buffer) => {
    discarded += chunk.byteLength;
    if (!past && discarded > limitBytes) {
      past = true;
      onPastLimit();
    }
  });
  req.resume();
}

/**
 * A lingering close (RFC 9112 §9.6): destroying a socket whose client is
 * still sending makes the kernel answer with a TCP reset, and a reset can
 * wipe the answer from the client's receive buffer before it was read (a
 * loaded client then sees ECONNRESET, not the error it was sent). So the
 * worker first half-closes (FIN after the answer), keeps reading and
 * discarding for LINGER_MS, and only then destroys the socket.
 */
function lingerThenClose(socket: NonNullable<NodeRequest["socket"]>): void {
  if (socket.destroyed) return;
  socket.end();
  const timer = setTimeout(() => socket.destroy(), LINGER_MS).unref();
  socket.once("close", () => clearTimeout(timer));
}

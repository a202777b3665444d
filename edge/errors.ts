// The edge's one error type and its one mapping per protocol. Everything that
// fails inside the edge becomes a GatewayError (a Connect code plus a message
// meant for the client); adapters only choose the wire format:
//   REST    -> HTTP status + {"error": "..."}
//   Connect -> ConnectError (connect-es picks the HTTP status / grpc-status)
import { Code, ConnectError } from "@connectrpc/connect";
// connect-es's own code -> HTTP table, so REST and Connect answer the same
// status for the same failure (marked internal API; connect is pinned).
import { codeToHttpStatus } from "@connectrpc/connect/protocol-connect";
import { ConfigError } from "./config.js";

export interface GatewayErrorOptions {
  /** Overrides the code's HTTP status (e.g. 413 for a body over the limit). */
  readonly httpStatus?: number;
  /** Extra response headers (e.g. retry-after). */
  readonly headers?: Readonly<Record<string, string>>;
  readonly cause?: unknown;
}

export class GatewayError extends Error {
  override readonly name = "GatewayError";
  readonly code: Code;
  readonly httpStatus: number;
  readonly headers: Readonly<Record<string, string>>;

  constructor(code: Code, message: string, options: GatewayErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.httpStatus = options.httpStatus ?? codeToHttpStatus(code);
    this.headers = options.headers ?? {};
  }

  /** True when the message is ours to show (not a masked internal failure). */
  get exposed(): boolean {
    return this.code !== Code.Internal && this.code !== Code.Unknown && this.code !== Code.DataLoss;
  }
}

export const invalidArgument = (message: string): GatewayError => new GatewayError(Code.InvalidArgument, message);

const GENERIC_INTERNAL = "internal error";

/**
 * Normalizes anything thrown into a GatewayError. Upstream ConnectErrors keep
 * their code and message (the worker already words them for clients) and a
 * Retry-After hint the worker gave, except the few refusals that would leak
 * a worker internal (see fromUpstream); a ConfigError is the operator's and
 * says so; anything else is masked as `internal` with a generic message (the
 * details go to logs only).
 */
export function toGatewayError(error: unknown): GatewayError {
  if (error instanceof GatewayError) return error;
  if (error instanceof ConnectError) return fromUpstream(error);
  if (error instanceof ConfigError) {
    return new GatewayError(Code.Internal, `edge misconfigured: ${error.message}`, { cause: error });
  }
  return new GatewayError(Code.Internal, GENERIC_INTERNAL, { cause: error });
}

// connect-node's read limit on the worker ("message size N is larger than
// configured readMaxBytes M"). The edge refuses requests that do not fit the
// model before sending them (pipeline/model-fit.ts); one that still trips the
// worker's limit carried extra data (parameters, names). The worker's
// variable name and its byte count are internals, and a 429 would read as
// "slow down": the client's request is simply too large for the model.
const WORKER_READ_LIMIT = /\breadMaxBytes\b/;

function fromUpstream(error: ConnectError): GatewayError {
  if (error.code === Code.ResourceExhausted && WORKER_READ_LIMIT.test(error.rawMessage)) {
    return new GatewayError(
      Code.InvalidArgument,
      "the request is larger than the model accepts: send at most the model's max_batch_size rows of its declared input shapes (see its metadata), without extra data",
      { cause: error },
    );
  }
  const retryAfter = error.metadata.get("retry-after");
  const headers = retryAfter === null ? undefined : { "retry-after": retryAfter };
  return new GatewayError(error.code, error.rawMessage, { cause: error, headers });
}

/** Whether the thrown value is a bug or unknown failure worth a stack trace in logs. */
export function isUnexpected(error: unknown): boolean {
  return !(error instanceof GatewayError || error instanceof ConnectError || error instanceof ConfigError);
}

// "Not now" answers (HTTP 429: a worker's full queue; 503: no worker, a
// draining one) tell the client when to come back, as RFC 9110 suggests, so
// well-behaved clients back off instead of retrying in a tight loop. Errors
// with their own hint (rate limits) keep it; the default is short because
// these conditions clear as fast as a batch runs or a worker restarts.
const RETRY_LATER_STATUSES: ReadonlySet<number> = new Set([429, 503]);
const DEFAULT_RETRY_AFTER_S = "1";

/** The headers an error's answer carries in every protocol: its own, plus Retry-After on 429/503 without one. */
export function errorHeaders(error: GatewayError): Readonly<Record<string, string>> {
  if (!RETRY_LATER_STATUSES.has(error.httpStatus) || error.headers["retry-after"] !== undefined) return error.headers;
  return { ...error.headers, "retry-after": DEFAULT_RETRY_AFTER_S };
}

/** REST: HTTP status + `{"error": "..."}`. */
export function toRestResponse(error: GatewayError, extraHeaders?: ConstructorParameters<typeof Headers>[0]): Response {
  const headers = new Headers(extraHeaders);
  headers.set("content-type", "application/json");
  for (const [key, value] of Object.entries(errorHeaders(error))) headers.set(key, value);
  return new Response(JSON.stringify({ error: error.message }), { status: error.httpStatus, headers });
}

/** Connect / gRPC-Web: a ConnectError; headers ride along as error metadata. */
export function toConnectError(error: GatewayError): ConnectError {
  return new ConnectError(error.message, error.code, errorHeaders(error), undefined, error);
}

// Request ids (ModelInferRequest.id, the REST body's "id") double as the
// handle a caller cancels a call by (ModelInferCancel). Shared by the edge,
// the workers and the browser client so all three agree on the limits.

/** Longer ids are refused: they are kept in memory per call and per cancellation. */
export const MAX_CALL_ID_LENGTH = 128;

/**
 * The edge -> worker header carrying the id a call can be cancelled by. The
 * edge derives it from the caller's identity and the request id, so one
 * caller can never cancel another's calls; the worker prefers it over the
 * request's own id (which it echoes back untouched).
 */
export const CALL_ID_HEADER = "x-gateway-call-id";

// Reads a request body to its end and drops it, for refusals decided on the
// headers alone (a content type the endpoint does not take). Answering while
// the client is still uploading makes the runtime close the connection under
// it, and the client then sees a broken pipe (EPIPE) instead of the refusal.
// The read is bounded: the body-limit middleware runs before every adapter,
// so no more than MAX_BODY_BYTES is ever read here.
export async function discardBody(request: Request): Promise<void> {
  try {
    await request.arrayBuffer();
  } catch {
    // Already read, cut off by the body limit, or the client went away: nothing to drain.
  }
}

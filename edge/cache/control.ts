// What the client allows the cache to do, from its request headers
// (RFC 9111 request directives; only the ones that matter to us):
//   no-store          -> "no-store": neither read nor write (x-cache: BYPASS)
//   no-cache,
//   max-age=0,
//   Pragma: no-cache  -> "no-cache": skip the read, fetch fresh, refresh the entry
//   anything else     -> "default"
export type ClientCacheMode = "default" | "no-cache" | "no-store";

export function clientCacheMode(headers: Headers): ClientCacheMode {
  const value = headers.get("cache-control");
  if (value === null) {
    // HTTP/1.0 clients; RFC 9111 only honours Pragma when Cache-Control is absent.
    return /(^|,)\s*no-cache\s*(,|$)/i.test(headers.get("pragma") ?? "") ? "no-cache" : "default";
  }
  let mode: ClientCacheMode = "default";
  for (const part of value.split(",")) {
    const directive = part.trim().toLowerCase();
    if (directive === "no-store") return "no-store";
    if (directive === "no-cache" || /^max-age\s*=\s*"?0+"?$/.test(directive)) mode = "no-cache";
  }
  return mode;
}

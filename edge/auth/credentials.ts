// Which credential a request carries. Two places are accepted:
//   Authorization: Bearer <API key or JWT>
//   x-api-key: <API key>
// An API key is recognised by its "gw_" prefix, a JWT by its three
// dot-separated parts, so one Bearer header serves both. Sending two
// different credentials is refused rather than guessing which one counts.
import { unauthenticated } from "./errors.js";
import { API_KEY_PREFIX } from "./api-keys.js";

export type Credential =
  | { readonly kind: "none" }
  | { readonly kind: "api-key"; readonly key: string }
  | { readonly kind: "jwt"; readonly token: string };

/** Longest credential looked at; anything longer is refused before parsing. */
const MAX_CREDENTIAL_LENGTH = 8192;

export function readCredential(headers: Headers): Credential {
  const authorization = headers.get("authorization")?.trim() ?? "";
  const apiKeyHeader = headers.get("x-api-key")?.trim() ?? "";

  let bearer = "";
  if (authorization !== "") {
    const match = /^Bearer[ ]+(\S+)$/i.exec(authorization);
    if (match === null) {
      throw unauthenticated('use "Authorization: Bearer <API key or token>" (other schemes are not accepted)', "invalid_request");
    }
    bearer = match[1]!;
  }
  if (bearer !== "" && apiKeyHeader !== "" && bearer !== apiKeyHeader) {
    throw unauthenticated("send one credential: Authorization or x-api-key, not both", "invalid_request");
  }
  const value = bearer || apiKeyHeader;
  if (value === "") return { kind: "none" };
  if (value.length > MAX_CREDENTIAL_LENGTH) throw unauthenticated("credential is too long", "invalid_token");
  if (value.startsWith(API_KEY_PREFIX)) return { kind: "api-key", key: value };
  if (apiKeyHeader !== "" && bearer === "") {
    throw unauthenticated(`x-api-key must hold an API key (it starts with "${API_KEY_PREFIX}")`, "invalid_token");
  }
  if (/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*$/.test(value)) return { kind: "jwt", token: value };
  throw unauthenticated(`bearer credential is neither an API key ("${API_KEY_PREFIX}...") nor a JWT`, "invalid_token");
}

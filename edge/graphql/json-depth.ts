// Bounds the nesting of GraphQL request JSON before yoga parses it, as the
// REST adapter does for its bodies (edge/rest/json-limits.ts has why: deep
// JSON costs JSON.parse super-linear CPU and overflows recursive code).
// Yoga picks a request parser per method and content type; this plugin
// wraps whichever it picked with a linear depth scan of the JSON the
// request carries (the body, or the variables and extensions of a form body
// or a GET query).
// Multipart requests are refused: they exist for file uploads, which this
// schema does not have, and their parts would need the same scan.
import { GraphQLError } from "graphql";
import { MAX_JSON_DEPTH, jsonTextTooDeep, tooDeepMessage } from "../rest/json-limits.js";
import type { YogaPlugin } from "./yoga.js";
import { discardBody } from "../http/discard-body.js";

type RequestParser = (request: Request) => unknown;

interface RequestParsePayload {
  readonly request: Request;
  readonly requestParser: RequestParser | undefined;
  setRequestParser(parser: RequestParser): void;
}

const refused = (message: string, status: number, code: string) =>
  new GraphQLError(message, { extensions: { code, http: { status } } });

/** The parameters that carry JSON in a GET query or a form body (the query itself is GraphQL, bounded by its own limits). */
const JSON_PARAMETERS = ["variables", "extensions"] as const;

const tooDeep = (params: URLSearchParams): boolean =>
  JSON_PARAMETERS.some((name) => params.getAll(name).some((text) => jsonTextTooDeep(text, MAX_JSON_DEPTH)));

function mediaType(request: Request): string {
  return (request.headers.get("content-type") ?? "").split(";", 1)[0]!.trim().toLowerCase();
}

export function useJsonDepthLimit(): YogaPlugin {
  const plugin = {
    onRequestParse({ requestParser, setRequestParser }: RequestParsePayload): void {
      // No parser: yoga answers 415 for the content type itself.
      if (requestParser === undefined) return;
      const parse = requestParser;
      setRequestParser(async (request) => {
        if (request.method === "GET") {
          if (tooDeep(new URL(request.url).searchParams)) throw refused(tooDeepMessage("the query's variables or extensions"), 400, "INVALID_ARGUMENT");
          return parse(request);
        }
        const type = mediaType(request);
        if (type === "multipart/form-data") {
          await discardBody(request);
          throw refused("multipart requests (file uploads) are not accepted: send application/json", 415, "UNSUPPORTED_MEDIA_TYPE");
        }
        // application/graphql bodies are a bare document: no JSON to bound.
        if (type === "application/graphql") return parse(request);
        const text = await request.text();
        const deep =
          type === "application/x-www-form-urlencoded" ? tooDeep(new URLSearchParams(text)) : jsonTextTooDeep(text, MAX_JSON_DEPTH);
        if (deep) throw refused(tooDeepMessage("the request body"), 400, "INVALID_ARGUMENT");
        // The body is spent: yoga's own parser reads this copy.
        return parse(new Request(request.url, { method: request.method, headers: request.headers, body: text }));
      });
    },
  };
  // yoga.d.ts types only the hooks it had needed so far; this one is yoga's documented onRequestParse.
  return plugin as YogaPlugin;
}

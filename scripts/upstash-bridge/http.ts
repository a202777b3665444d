// HTTP plumbing for the bridge: bearer-token check, bounded body reading,
// JSON answers. Nothing here knows about Redis.
import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { BridgeError } from "./commands.js";

const digest = (text: string) => createHash("sha256").update(text).digest();

/** Constant-time token check; accepts `Authorization: Bearer <token>` or Upstash's `?_token=`. */
export function authorized(req: IncomingMessage, url: URL, token: string): boolean {
  const header = req.headers.authorization ?? "";
  const match = /^Bearer\s+(.+)$/i.exec(header.trim());
  const given = match?.[1] ?? url.searchParams.get("_token") ?? "";
  // Comparing digests keeps the comparison constant-time whatever the lengths.
  return given !== "" && timingSafeEqual(digest(given), digest(token));
}

/** Reads the whole body, refusing (413) past `limit` bytes without buffering the rest. */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers["content-length"] ?? 0);
  if (declared > limit) return Promise.reject(tooLarge(limit));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners("data");
        req.pause();
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function tooLarge(limit: number): BridgeError {
  return new BridgeError(413, `ERR request body larger than ${limit} bytes`);
}

export function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString("utf8"));
  } catch (error) {
    throw new BridgeError(400, `ERR malformed JSON body: ${(error as Error).message}`);
  }
}

export function sendJson(res: ServerResponse, status: number, value: unknown, closeAfter = false): void {
  const body = JSON.stringify(value);
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(body),
    ...(closeAfter ? { connection: "close" } : {}),
  });
  res.end(body);
}

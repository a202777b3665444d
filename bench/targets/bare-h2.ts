// The worker's ceiling on this machine: a plain node:http2 (h2c) server that
// answers every POST with the worker's own Connect response bytes. The gap
// between it and the worker row is the worker's routing, decoding, queueing
// and session.run; the gap between it and the floor is Node's HTTP/2 cost,
// which no worker code can remove.
import { createServer, type Http2Server } from "node:http2";
import type { BenchConfig } from "../lib/config.js";
import { measureRow } from "../lib/row.js";
import { h2loadLatency, h2loadThroughput, type PostTarget } from "../lib/tools.js";
import type { Row } from "../lib/types.js";

/** Fetches one real answer from the worker over HTTP/1.1 fetch (the worker serves both). */
export async function connectAnswer(target: PostTarget): Promise<Uint8Array> {
  const response = await fetch(target.url, { method: "POST", headers: target.headers, body: target.body });
  const body = new Uint8Array(await response.arrayBuffer());
  if (response.status !== 200) throw new Error(`worker answered ${response.status}: ${new TextDecoder().decode(body).slice(0, 200)}`);
  return body;
}

export async function bareH2Row(config: BenchConfig, row: Row, target: PostTarget, answer: Uint8Array, plan: { concurrency: number; seconds: number }, progress: (l: string) => void): Promise<Row> {
  const server: Http2Server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      res.writeHead(200, { "content-type": "application/proto" });
      res.end(answer);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  const local: PostTarget = { ...target, url: `http://127.0.0.1:${port}${new URL(target.url).pathname}` };
  try {
    return await measureRow(
      row,
      () => h2loadLatency(local, { requests: config.requests, warmupRequests: config.warmupRequests, maxSeconds: config.latencyMaxSeconds }),
      () => h2loadThroughput(local, { concurrency: plan.concurrency, seconds: plan.seconds, warmupSeconds: config.warmupSeconds }, config.h2Connections),
      progress,
    );
  } finally {
    // Open h2load sessions are gone by now; close() waits for none.
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

// A tiny static server on 127.0.0.1 standing in for a third-party site: it
// serves a test page that imports the browser client bundle (/client.js, as
// built for the edge's assets) and exposes it as `window.gw`.
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { join } from "node:path";
import { PLAYGROUND_DIR } from "../support/paths.js";

export interface StaticSite {
  readonly origin: string;
  close(): Promise<void>;
}

const PAGE = `<!doctype html><meta charset="utf-8"><title>third-party page</title>
<script type="module">import * as gw from "/client.js"; window.gw = gw; document.title = "ready";</script>`;

export async function startStaticSite(): Promise<StaticSite> {
  const client = readFileSync(join(PLAYGROUND_DIR, "client.js"));
  const server: Server = createServer((req, res) => {
    if (req.url === "/client.js") {
      res.writeHead(200, { "content-type": "text/javascript" }).end(client);
    } else if (req.url === "/" || req.url === "/index.html") {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(PAGE);
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const address = server.address();
  if (typeof address !== "object" || address === null) throw new Error("static server has no address");
  return {
    origin: `http://127.0.0.1:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

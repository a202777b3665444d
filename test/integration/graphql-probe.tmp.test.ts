import { it } from "vitest";
import { startEdge } from "../support/edge-runtime.js";
it("probe", async () => {
  const edge = await startEdge({ WORKER_URLS: "http://127.0.0.1:1" });
  for (const accept of ["application/json", "application/graphql-response+json"]) for (const query of ["{", "{ nope }", "{ __typename }"]) {
    const r = await fetch(`${edge.url}/graphql`, { method: "POST", headers: { "content-type": "application/json", accept }, body: JSON.stringify({ query }) });
    console.log(accept, query, r.status, r.headers.get("content-type"), await r.text());
  }
  await edge.dispose();
});

// The catalogue over a recording stand-in for the upstream client: what it
// remembers (found and not found), for how long, and how much.
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { ModelMetadataResponseSchema } from "../../../gen/inference/grpc_service_pb.js";
import { createCatalogue } from "../../../edge/catalogue/catalogue.js";
import { createRequestContext, detachedScope } from "../../../edge/pipeline/context.js";
import type { Upstream } from "../../../edge/upstream/client.js";

const ctx = () => createRequestContext({ scope: detachedScope("t"), maxTimeoutMs: 1000 });

function upstreamKnowing(models: string[]) {
  const asked: string[] = [];
  const upstream = {
    async call(_method: string, request: { name: string }) {
      asked.push(request.name);
      if (request.name === "down") throw new ConnectError("no worker", Code.Unavailable);
      if (!models.includes(request.name)) throw new ConnectError(`unknown model "${request.name}"`, Code.NotFound);
      return create(ModelMetadataResponseSchema, { name: request.name, versions: ["1"] });
    },
  } as unknown as Upstream;
  return { upstream, asked };
}

describe("model catalogue", () => {
  it("remembers found models for ttlMs and missing ones for negativeTtlMs, never outages", async () => {
    const clock = { t: 0 };
    const { upstream, asked } = upstreamKnowing(["iris"]);
    const catalogue = createCatalogue(upstream, { ttlMs: 5000, negativeTtlMs: 1000, maxEntries: 100, now: () => clock.t });
    expect(catalogue.known("iris", "")).toBeUndefined();
    expect((await catalogue.resolve("iris", "", ctx())).version).toBe("1");
    expect(catalogue.known("iris", "")?.name).toBe("iris");
    await expect(catalogue.resolve("ghost", "", ctx())).rejects.toMatchObject({ code: Code.NotFound });
    await expect(catalogue.resolve("ghost", "", ctx())).rejects.toMatchObject({ code: Code.NotFound, message: 'unknown model "ghost"' });
    expect(catalogue.known("ghost", "")).toBeUndefined();
    await expect(catalogue.resolve("down", "", ctx())).rejects.toBeDefined();
    await expect(catalogue.resolve("down", "", ctx())).rejects.toBeDefined();
    expect(asked).toEqual(["iris", "ghost", "down", "down"]);
    clock.t = 1500; // the missing answer has expired, the found one has not
    await catalogue.resolve("iris", "", ctx());
    await expect(catalogue.resolve("ghost", "", ctx())).rejects.toMatchObject({ code: Code.NotFound });
    expect(asked).toEqual(["iris", "ghost", "down", "down", "ghost"]);
  });

  it("keeps at most maxEntries answers, the oldest out first", async () => {
    const { upstream, asked } = upstreamKnowing([]);
    const catalogue = createCatalogue(upstream, { ttlMs: 5000, negativeTtlMs: 60_000, maxEntries: 2, now: () => 0 });
    for (const name of ["a", "b", "c", "c", "b", "a"]) await catalogue.resolve(name, "", ctx()).catch(() => undefined);
    expect(asked).toEqual(["a", "b", "c", "a"]);
  });
});

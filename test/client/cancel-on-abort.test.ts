// The browser client's cancel-on-abort: an aborted ModelInfer also sends
// ModelInferCancel for the id the call carried (one is made up when an
// abortable call has none); calls without a signal, deadlines, finished calls
// and opted-out clients send nothing. The edge is an in-process Connect
// router here (real protocol).
import type { HandlerContext } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { createGatewayClient, inferRequest, type Protocol } from "../../client/index.js";
import type { ModelInferCancelRequest, ModelInferRequest } from "../../gen/inference/grpc_service_pb.js";
import { echoImpl, fakeWorkers } from "../edge/support/fake-worker.js";

function fakeEdge() {
  const seen: { infer: string[]; cancel: { model: string; id: string }[] } = { infer: [], cancel: [] };
  const workers = fakeWorkers({
    "http://edge": {
      ...echoImpl,
      // Answers quickly unless the model is "hang", which waits for the caller to go.
      modelInfer: async (req: ModelInferRequest, context: HandlerContext) => {
        seen.infer.push(req.id);
        if (req.modelName === "hang") await new Promise((resolve) => context.signal.addEventListener("abort", resolve));
        return echoImpl.modelInfer!(req, context);
      },
      modelInferCancel: (req: ModelInferCancelRequest) => {
        seen.cancel.push({ model: req.modelName, id: req.id });
        return { cancelled: 1 };
      },
    },
  });
  return { seen, fetch: workers.fetch };
}

const input = [{ name: "x", datatype: "FP32" as const, shape: [1, 2], data: [1, 2] }];
const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

describe.each<Protocol>(["grpc-web", "connect-binary", "connect-json"])("cancel on abort over %s", (protocol) => {
  it("an aborted call sends ModelInferCancel with the id it was sent with (made up when absent)", async () => {
    const edge = fakeEdge();
    const client = createGatewayClient({ baseUrl: "http://edge", protocol, fetch: edge.fetch });
    const controller = new AbortController();
    const call = client.modelInfer(inferRequest("hang", input), { signal: controller.signal });
    await settle();
    controller.abort();
    await expect(call).rejects.toThrow();
    await settle();
    expect(edge.seen.infer[0]).toMatch(/^[0-9a-f]{32}$/);
    expect(edge.seen.cancel).toEqual([{ model: "hang", id: edge.seen.infer[0] }]);
  });

  it("keeps the caller's own id", async () => {
    const edge = fakeEdge();
    const client = createGatewayClient({ baseUrl: "http://edge", protocol, fetch: edge.fetch });
    const controller = new AbortController();
    const request = inferRequest("hang", input, { id: "mine-1" });
    const call = client.modelInfer(request, { signal: controller.signal });
    await settle();
    controller.abort();
    await expect(call).rejects.toThrow();
    await settle();
    expect(edge.seen.cancel).toEqual([{ model: "hang", id: "mine-1" }]);
    expect(request.id).toBe("mine-1");
  });

  it("leaves a call without a signal as it is: no id is added (nothing could abort it)", async () => {
    const edge = fakeEdge();
    const client = createGatewayClient({ baseUrl: "http://edge", protocol, fetch: edge.fetch });
    await client.modelInfer(inferRequest("iris", input));
    await client.modelInfer(inferRequest("iris", input), { timeoutMs: 5_000 });
    expect(edge.seen.infer).toEqual(["", ""]);
  });

  it("sends nothing for a deadline, a finished call, or with cancelOnAbort: false", async () => {
    const edge = fakeEdge();
    const client = createGatewayClient({ baseUrl: "http://edge", protocol, fetch: edge.fetch });
    await expect(client.modelInfer(inferRequest("hang", input), { timeoutMs: 30 })).rejects.toThrow();

    const finished = new AbortController();
    await client.modelInfer(inferRequest("iris", input), { signal: finished.signal });
    finished.abort();

    const optedOut = createGatewayClient({ baseUrl: "http://edge", protocol, fetch: edge.fetch, cancelOnAbort: false });
    const controller = new AbortController();
    const call = optedOut.modelInfer(inferRequest("hang", input), { signal: controller.signal });
    await settle();
    controller.abort();
    await expect(call).rejects.toThrow();
    await settle();
    expect(edge.seen.cancel).toEqual([]);
    expect(edge.seen.infer.at(-1)).toBe("");
  });
});

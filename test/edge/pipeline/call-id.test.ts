// The id a worker tracks a cancellable call under is bound to its caller:
// two callers choosing the same id get different worker ids, so one can never
// cancel the other's call.
import { Code } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { MAX_CALL_ID_LENGTH } from "../../../common/oip/index.js";
import type { Principal } from "../../../edge/auth/types.js";
import { checkCallId, workerCallId } from "../../../edge/pipeline/call-id.js";
import { GatewayError } from "../../../edge/errors.js";

const alice: Principal = { id: "key:alice", kind: "api-key", tenant: "a", plan: "p" };
const bob: Principal = { id: "key:bob", kind: "api-key", tenant: "b", plan: "p" };

describe("caller-bound call ids", () => {
  it("derive the worker's id from the caller and the id: same pair, same id; another caller, another id", async () => {
    const mine = await workerCallId(alice, "job-1");
    expect(mine).toMatch(/^[0-9a-f]{64}$/);
    expect(await workerCallId(alice, "job-1")).toBe(mine);
    expect(await workerCallId(bob, "job-1")).not.toBe(mine);
    expect(await workerCallId(alice, "job-2")).not.toBe(mine);
    // The separator keeps "principal + id" unambiguous.
    const shifted: Principal = { ...alice, id: "key:alice\njob" };
    expect(await workerCallId(shifted, "-1")).not.toBe(await workerCallId(alice, "job\n-1"));
  });

  it("refuses ids longer than the workers keep, with invalid_argument naming the limit", () => {
    expect(() => checkCallId("x".repeat(MAX_CALL_ID_LENGTH))).not.toThrow();
    let error: unknown;
    try {
      checkCallId("x".repeat(MAX_CALL_ID_LENGTH + 1));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(GatewayError);
    expect((error as GatewayError).code).toBe(Code.InvalidArgument);
    expect((error as GatewayError).message).toBe(`id is ${MAX_CALL_ID_LENGTH + 1} characters long; the limit is ${MAX_CALL_ID_LENGTH}`);
  });
});

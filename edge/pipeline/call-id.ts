// A request id (ModelInferRequest.id) is also the handle its caller cancels
// the call by. Ids are chosen by callers, so two callers may pick the same
// one: the id the workers see is derived from the caller's identity too, and
// one caller can never cancel another's call, however it guesses ids.
import { MAX_CALL_ID_LENGTH } from "../../common/oip/index.js";
import type { Principal } from "../auth/types.js";
import { sha256Hex } from "../crypto/sha256.js";
import { invalidArgument } from "../errors.js";

/** Refuses ids the workers would not keep (too long). */
export function checkCallId(id: string): void {
  if (id.length > MAX_CALL_ID_LENGTH) {
    throw invalidArgument(`id is ${id.length} characters long; the limit is ${MAX_CALL_ID_LENGTH}`);
  }
}

/**
 * SHA-256 over the principal and the id, hex: the id a worker tracks the call
 * under. The principal's id goes in with its length, so no choice of id can
 * make one caller's pair read as another's (principal ids, a JWT's `sub` for
 * one, may themselves hold the separator).
 */
export const workerCallId = (principal: Principal, id: string): Promise<string> =>
  sha256Hex(`${principal.id.length}:${principal.id}\n${id}`);

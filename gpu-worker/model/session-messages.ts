// What the main thread (session-thread.ts) and a session thread
// (session-host.ts) say to each other, and how tensors cross between them.
import type { Code } from "@connectrpc/connect";
import type { NumericArray } from "../../common/oip/index.js";
import type { LogLevel } from "../log.js";
import type { ExecutionProvider, ModelConfig } from "./config.js";
import type { Tensor } from "./tensors.js";

/** workerData of a session thread. */
export interface HostData {
  readonly label: string;
  readonly file: string;
  readonly config: ModelConfig;
  readonly providers: readonly ExecutionProvider[];
  readonly logLevel: LogLevel;
  /** The module the bootstrap loads: session-host, or a stand-in in tests. */
  readonly entry: string;
}

/** Main thread -> session thread. */
export type HostRequest =
  | { readonly type: "run"; readonly id: number; readonly inputs: Tensor[] }
  | { readonly type: "release" };

/** Session thread -> main thread. */
export type HostReply =
  | { readonly type: "ready"; readonly provider: ExecutionProvider }
  | { readonly type: "failed"; readonly message: string }
  | { readonly type: "result"; readonly id: number; readonly outputs: Tensor[] }
  /** `message` is the ConnectError's raw message; the main thread rebuilds the error with `code`. */
  | { readonly type: "error"; readonly id: number; readonly code: Code; readonly message: string }
  | { readonly type: "released" };

/**
 * Tensors ready to post with their numeric buffers in the transfer list, so
 * they move instead of being copied. A typed array that is only a view into
 * a larger (or shared, or already listed) buffer is copied first: transferring
 * its buffer would detach memory that is not the tensor's, and cloning it
 * would copy the whole backing store. BYTES elements are many small arrays;
 * structured clone copies them, which is cheaper than listing each one.
 */
export function forTransfer(tensors: readonly Tensor[]): { tensors: Tensor[]; transfer: ArrayBuffer[] } {
  const transfer: ArrayBuffer[] = [];
  const moved = tensors.map((tensor) => {
    if (Array.isArray(tensor.values)) return tensor;
    let values = tensor.values as NumericArray;
    const buffer = values.buffer;
    const owned =
      buffer instanceof ArrayBuffer && values.byteOffset === 0 && values.byteLength === buffer.byteLength && !transfer.includes(buffer);
    if (!owned) values = values.slice();
    transfer.push(values.buffer as ArrayBuffer);
    return { ...tensor, values };
  });
  return { tensors: moved, transfer };
}

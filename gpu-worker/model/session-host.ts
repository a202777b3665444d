// Entry of a session thread (see session-thread.ts): creates one
// onnxruntime session with the usual provider fallback and signature check,
// then runs executions one at a time as the main thread asks, posting
// outputs back with their buffers transferred. onnxruntime blocks this
// thread while it runs, which is the point: the main thread stays free.
import { ConnectError } from "@connectrpc/connect";
import type ort from "onnxruntime-node";
import { parentPort, workerData } from "node:worker_threads";
import { setLogLevel } from "../log.js";
import { runFailure, runSession } from "./session-runner.js";
import { forTransfer, type HostData, type HostReply, type HostRequest } from "./session-messages.js";
import { createSession } from "./session.js";

const port = parentPort!;
const data = workerData as HostData;
const post = (reply: HostReply, transfer: ArrayBuffer[] = []) => port.postMessage(reply, transfer);
setLogLevel(data.logLevel);

async function handle(session: ort.InferenceSession, request: HostRequest): Promise<void> {
  if (request.type === "release") {
    try {
      await session.release();
    } finally {
      post({ type: "released" });
      // Nothing else keeps this thread alive: it ends once the reply is out.
      port.close();
    }
    return;
  }
  try {
    const { tensors, transfer } = forTransfer(await runSession(session, data.config, request.inputs));
    post({ type: "result", id: request.id, outputs: tensors }, transfer);
  } catch (error) {
    const failure = error instanceof ConnectError ? error : runFailure(data.config.name, error);
    post({ type: "error", id: request.id, code: failure.code, message: failure.rawMessage });
  }
}

let session: ort.InferenceSession | undefined;
try {
  const created = await createSession(data.label, data.file, data.config, data.providers);
  session = created.session;
  post({ type: "ready", provider: created.provider });
} catch (error) {
  // createSession's errors already name the file and every provider's reason: pass them on verbatim.
  post({ type: "failed", message: error instanceof Error ? error.message : String(error) });
  port.close();
}

if (session !== undefined) {
  const ready = session;
  // One execution at a time, in arrival order; a release waits for the runs before it.
  let queue = Promise.resolve();
  port.on("message", (request: HostRequest) => {
    queue = queue.then(() => handle(ready, request));
  });
}

// Bootstrap of a session thread (see session-thread.ts). The worker runs
// from TypeScript sources (`node --import tsx`), but on Node 20 tsx registers
// its loader only on the main thread: `--import tsx` in a Worker's execArgv
// runs and then leaves `.ts` unloadable there. tsx's tsImport loads the entry,
// and everything it imports, through tsx in this thread instead. A compiled
// `.js` entry is imported as it is.
import { workerData } from "node:worker_threads";

const entry = workerData.entry;
if (entry.endsWith(".ts")) {
  const { tsImport } = await import("tsx/esm/api");
  await tsImport(entry, import.meta.url);
} else {
  await import(entry);
}

// Worker entry point: config -> model repository -> server; SIGTERM/SIGINT
// drain and exit 0. Exit codes: 2 bad configuration, 1 failed to start.
import { ConfigError, parseConfig, type WorkerConfig } from "./config.js";
import { log, setLogLevel } from "./log.js";
import { loadRepository, type ModelRepository } from "./model/repository.js";
import { startServer } from "./server.js";

let config: WorkerConfig;
try {
  config = parseConfig(process.env);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  log.error(error.message);
  process.exit(2);
}
setLogLevel(config.logLevel);

// Last line of defence: every request path answers its own errors (see
// http/rpc-handler.ts), but a promise some callback forgot would, by Node's
// default, end the process and every caller's call with it. Logged loudly
// instead; an uncaught exception still ends the process (its state is unknown).
process.on("unhandledRejection", (reason) => {
  log.error(`unhandled rejection (a bug; the worker keeps serving): ${reason instanceof Error ? (reason.stack ?? reason.message) : String(reason)}`);
});

let repository: ModelRepository;
try {
  repository = await loadRepository(config);
} catch (error) {
  log.error(`could not load the model repository: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}

const server = await startServer(config, repository).catch((error: unknown) => {
  log.error(`could not listen on ${config.host}:${config.port}: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});

const summary = repository
  .models()
  .map((m) => `${m.config.name} v${m.version}`)
  .join(", ");
const providers = [...new Set(repository.models().map((m) => m.provider))].join(", ");
log.info(`worker listening on ${server.url} (h2c + HTTP/1.1), models: ${summary}, provider: ${providers}`);

let stopping = false;
const stop = async (signal: NodeJS.Signals) => {
  if (stopping) return;
  stopping = true;
  log.info(`${signal}: draining (up to ${config.drainTimeoutMs} ms for in-flight requests)`);
  await server.drain();
  await repository.close();
  log.info("drained; bye");
  process.exit(0);
};
process.on("SIGTERM", (s) => void stop(s));
process.on("SIGINT", (s) => void stop(s));

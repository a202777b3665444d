// The bridge's one connection to redis-server (node-redis, RESP2, raw
// `sendCommand`). Built so that Redis going away never hangs or crashes the
// bridge: commands are rejected at once while disconnected (no offline
// queue), each command has a time limit, reconnects happen in the
// background forever with a capped backoff, and 'error' events are logged
// (once per outage) instead of being thrown.
import { createClient, RESP_TYPES } from "redis";

export interface RedisConnection {
  /** Sends one command; strings come back as Buffers so binary values survive. */
  send(args: readonly string[], chainId?: symbol): Promise<unknown>;
  readonly ready: boolean;
  close(): Promise<void>;
}

export interface ConnectionOptions {
  url: string;
  /** Longest wait for one reply before the request fails (a hung Redis). */
  commandTimeoutMs: number;
  log: (line: string) => void;
}

export function connectRedis(options: ConnectionOptions): RedisConnection {
  const client = createClient({
    url: options.url,
    disableOfflineQueue: true,
    socket: {
      connectTimeout: 2_000,
      // Keep trying for as long as the bridge runs; 100 ms steps up to 1 s.
      reconnectStrategy: (retries: number) => Math.min((retries + 1) * 100, 1_000),
    },
    commandOptions: {
      timeout: options.commandTimeoutMs,
      typeMapping: { [RESP_TYPES.BLOB_STRING]: Buffer, [RESP_TYPES.SIMPLE_STRING]: Buffer },
    },
  });

  let down = false;
  client.on("error", (error: Error) => {
    if (down) return;
    down = true;
    options.log(`redis at ${options.url} unavailable (${error.message}); answering 503 and reconnecting`);
  });
  client.on("ready", () => {
    if (down) options.log(`redis at ${options.url} is back`);
    down = false;
  });

  // connect() keeps retrying until Redis answers; failures surface as 'error'
  // events above, so the promise itself is only awaited for readiness.
  const connecting = client.connect().then(
    () => undefined,
    () => undefined,
  );
  void connecting;

  return {
    send: (args, chainId) => client.sendCommand([...args], chainId ? { chainId } : undefined),
    get ready() {
      return client.isReady;
    },
    async close() {
      if (client.isOpen) client.destroy();
      await connecting;
    },
  };
}

// One tiny logger so every line goes to stdout with the `[worker]` prefix
// that the launcher and the integration tests grep for.
export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

let threshold = LOG_LEVELS.indexOf("info");

export function setLogLevel(level: LogLevel): void {
  threshold = LOG_LEVELS.indexOf(level);
}

function write(level: LogLevel, message: string): void {
  if (LOG_LEVELS.indexOf(level) < threshold) return;
  const tag = level === "warn" ? "WARNING: " : level === "error" ? "ERROR: " : "";
  process.stdout.write(`[worker] ${tag}${message}\n`);
}

export const log = {
  debug: (message: string) => write("debug", message),
  info: (message: string) => write("info", message),
  warn: (message: string) => write("warn", message),
  error: (message: string) => write("error", message),
};

/** Thrown (and cached) when the bindings are invalid; the message names the variable. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

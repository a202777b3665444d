// Structural bounds on the JSON the edge accepts (REST bodies, GraphQL
// variables), and bounded quoting of client values in error messages.
//
// Why bound nesting at all: V8's JSON.parse is iterative, but its cost grows
// faster than the text for deep nesting (8 MiB of "[" takes seconds of CPU),
// and JSON.stringify, JSON.parse with a reviver and any recursive walk
// overflow the stack a few thousand levels down (a 500 before this check).
// Tensor data can never legitimately nest deeper than its shape's rank, so
// these are protocol facts rather than capacity knobs, and they are
// constants (documented in README "Known limits"), not configuration.

/** Most dimensions in a tensor's shape: NumPy 1.x's NPY_MAXDIMS; ONNX models in practice stay far below it. */
export const MAX_TENSOR_RANK = 32;

/**
 * Deepest nesting of arrays and objects in a JSON body: the request envelope
 * (body, inputs, tensor, data: 4 levels) plus data nested as deep as the
 * largest rank, with room to spare.
 */
export const MAX_JSON_DEPTH = 64;

/** Longest client string quoted back in an error message. */
const MAX_QUOTED_CHARS = 64;

// The characters that matter to depth; a regex scan jumps over digits and
// whitespace in native code, several times faster than a charCodeAt loop on
// numeric tensors (the common large body).
const STRUCTURAL = /["[\]{}]/g;
// The rest of a JSON string after its opening quote (escapes included).
const STRING_TAIL = /(?:[^"\\]|\\[^])*"/y;

/**
 * Whether JSON text nests arrays/objects deeper than `max`, found by one
 * linear scan before parsing (brackets inside strings do not count). Text
 * that is not valid JSON is left for JSON.parse to report.
 */
export function jsonTextTooDeep(text: string, max: number): boolean {
  let depth = 0;
  STRUCTURAL.lastIndex = 0;
  for (let match = STRUCTURAL.exec(text); match !== null; match = STRUCTURAL.exec(text)) {
    const c = match[0];
    if (c === '"') {
      STRING_TAIL.lastIndex = STRUCTURAL.lastIndex;
      if (STRING_TAIL.exec(text) === null) return false;
      STRUCTURAL.lastIndex = STRING_TAIL.lastIndex;
    } else if (c === "[" || c === "{") {
      if (++depth > max) return true;
    } else {
      depth--;
    }
  }
  return false;
}

/** The message for a body that nests too deep, saying what to send instead. */
export function tooDeepMessage(what: string): string {
  return (
    `${what} nests arrays/objects deeper than ${MAX_JSON_DEPTH} levels; ` +
    `tensor "data" may nest at most as deep as its shape's rank (at most ${MAX_TENSOR_RANK} dimensions), or be sent flat`
  );
}

/**
 * A client value for an error message, bounded in length and depth: scalars
 * as JSON (strings cut at MAX_QUOTED_CHARS), arrays and objects described,
 * never serialized (they may be huge or thousands of levels deep).
 */
export function quote(value: unknown): string {
  switch (typeof value) {
    case "string":
      return JSON.stringify(value.length > MAX_QUOTED_CHARS ? `${value.slice(0, MAX_QUOTED_CHARS)}…` : value);
    case "number":
    case "boolean":
    case "bigint":
      return String(value);
    case "undefined":
      return "nothing";
    default:
      if (value === null) return "null";
      if (Array.isArray(value)) return `an array of ${value.length}`;
      return "an object";
  }
}

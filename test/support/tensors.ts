// Reads a ModelInferResponse's outputs into plain JSON-like values, so answers
// from every protocol compare with toEqual: the browser client's own reader
// (client/index.ts), so the tests exercise it too.
export { outputsOf as plainOutputs, type PlainTensor } from "../../client/index.js";

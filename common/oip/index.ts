export * from "./datatypes.js";
export * from "./shape.js";
export * from "./codec.js";
export * from "./fp16.js";
export * from "./response.js";
export * from "./call-id.js";

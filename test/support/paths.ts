import { fileURLToPath } from "node:url";
import { join } from "node:path";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const MODELS = join(ROOT, "models");
export const FIXTURE_MODELS = join(ROOT, "test/fixtures/models");
export const EDGE_BUNDLE_DIR = join(ROOT, ".build/edge");
export const EDGE_BUNDLE = join(EDGE_BUNDLE_DIR, "index.js");
export const PLAYGROUND_DIR = join(ROOT, ".build/playground");

import { defineConfig } from "vitest/config";

// Integration tests start real processes (worker, workerd, redis), so they
// run one file at a time on this 2-core machine; unit tests stay parallel.
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/support/global-setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    fileParallelism: false,
    reporters: ["default"],
  },
});

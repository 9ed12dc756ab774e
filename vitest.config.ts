import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Test files start their own sandbox pools; running them one after the
    // other keeps timeout-based checks meaningful on a 2-core machine.
    fileParallelism: false,
    reporters: ["default"],
  },
});

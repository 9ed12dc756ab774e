import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Two files at a time (each starts its own sandbox pools): the suite's
    // timing checks carry margins for a loaded 2-core machine, and say so.
    fileParallelism: true,
    maxWorkers: 2,
    // Files share a worker's module graph (no file keeps state in a module of ours
    // that another could see): each import of the server's stack is paid once per worker.
    isolate: false,
    reporters: ["default"],
  },
});

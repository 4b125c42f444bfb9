import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    root: new URL("..", import.meta.url).pathname,
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Each file starts its own servers and anvil on random loopback ports; two cores.
    fileParallelism: true,
    maxWorkers: 2,
  },
});

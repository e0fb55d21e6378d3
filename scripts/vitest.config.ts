import { defineConfig } from 'vitest/config';

// The start scripts' tests run real processes (node children, signals); generous for a loaded 2-core machine.
export default defineConfig({
  test: { name: 'scripts', testTimeout: 120_000, hookTimeout: 120_000 },
});

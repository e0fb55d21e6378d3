import { defineConfig } from 'vitest/config';

// Real runsc sandboxes boot in seconds idle and far longer on a loaded 2-core machine.
export default defineConfig({
  test: { testTimeout: 120_000, hookTimeout: 180_000 },
});

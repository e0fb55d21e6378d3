import { defineConfig } from 'vitest/config';

// Integration tests start runsc sandboxes and kernels on a loaded 2-core machine.
export default defineConfig({
  test: { name: '@kiln/endpoints', testTimeout: 120_000, hookTimeout: 180_000 },
});

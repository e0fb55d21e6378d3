import { defineConfig } from 'vitest/config';

// Servers on port 0 and webhook deliveries over loopback, on a loaded 2-core machine.
export default defineConfig({
  test: { name: '@kiln/stripe-local', testTimeout: 30_000, hookTimeout: 30_000 },
});

import { defineConfig } from 'vitest/config';

// Integration tests run against the shared Postgres on a loaded 2-core machine.
export default defineConfig({
  test: { name: '@kiln/billing', testTimeout: 60_000, hookTimeout: 60_000 },
});

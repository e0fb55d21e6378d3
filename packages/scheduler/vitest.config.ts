import { defineConfig } from 'vitest/config';

// Integration tests run child processes and many transactions against the shared Postgres on 2 cores.
export default defineConfig({
  test: { name: '@kiln/scheduler', testTimeout: 60_000, hookTimeout: 60_000 },
});

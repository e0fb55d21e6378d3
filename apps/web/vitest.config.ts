import { defineConfig } from 'vitest/config';

// Integration tests start runsc kernels and Postgres databases; on a loaded 2-core machine a setup
// hook took over 10 s (Vitest's default), so hooks and cases get minutes.
export default defineConfig({
  test: { testTimeout: 120_000, hookTimeout: 180_000 },
});

import { defineConfig } from 'vitest/config';

// Real runsc kernels take seconds to boot, so the integration tests share one per file.
export default defineConfig({
  test: { testTimeout: 60_000, hookTimeout: 60_000 },
});

import { defineConfig } from 'vitest/config';

// Real runsc kernels take seconds to boot idle and a minute or more on a loaded 2-core machine, so the
// integration tests share one per file and hooks get minutes.
export default defineConfig({
  test: { testTimeout: 120_000, hookTimeout: 180_000 },
});

import { defineProject } from 'vitest/config';

// Integration tests build teams in Postgres; on a loaded 2-core machine one case can pass 5 s.
export default defineProject({
  test: { name: '@kiln/api', testTimeout: 30_000, hookTimeout: 30_000 },
});

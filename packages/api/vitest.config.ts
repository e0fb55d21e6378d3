import { defineProject } from 'vitest/config';

// Integration tests build teams in Postgres; on a loaded 2-core machine (load 12-24) one case can
// pass 5 s and creating a migrated test database in a hook far more.
export default defineProject({
  test: { name: '@kiln/api', testTimeout: 60_000, hookTimeout: 120_000 },
});

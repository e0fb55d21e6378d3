import { defineConfig } from 'vitest/config';

// One project per package, plus scripts/ (npm start's supervisor); *.int.test.ts need Postgres (127.0.0.1:5432) or runsc and run in the same pass.
export default defineConfig({
  test: {
    projects: ['packages/*', 'apps/*', 'scripts'],
  },
});

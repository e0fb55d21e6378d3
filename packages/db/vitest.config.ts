import { defineConfig } from 'vitest/config';

// Starting PGlite (initdb in WebAssembly) and the CLI as child processes takes seconds on 2 cores.
export default defineConfig({
  test: { name: '@kiln/db', testTimeout: 60_000, hookTimeout: 120_000 },
});

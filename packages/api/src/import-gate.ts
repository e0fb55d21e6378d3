import { DomainError } from '@kiln/core';

/**
 * Each import holds its file several times over in memory (a 24 MiB notebook took 200+ MB), and
 * without the web app's reader threads (ContextOptions.ipynbReader) it also parses on the server's
 * one thread. Bounding how many run at once keeps three uploads from taking the web server's memory
 * and everyone's requests with it.
 */
export const MAX_CONCURRENT_IMPORTS = 2;

let running = 0;

/** Runs `work` in an import slot, or refuses with RATE_LIMITED when every slot is taken. */
export async function withImportSlot<T>(work: () => Promise<T>): Promise<T> {
  if (running >= MAX_CONCURRENT_IMPORTS) {
    throw new DomainError(
      'RATE_LIMITED',
      'The server is busy importing other notebooks. Try again in a few seconds.',
    );
  }
  running++;
  try {
    // Let requests that arrived meanwhile (a page load, auth.me) run before the long synchronous parse.
    await new Promise((resolve) => setImmediate(resolve));
    return await work();
  } finally {
    running--;
  }
}

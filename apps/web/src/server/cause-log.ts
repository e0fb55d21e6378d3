import { isDatabaseUnavailable } from '@kiln/db';

export interface CauseLogOptions {
  /** A cause seen again within this window is counted, not logged. */
  windowMs?: number;
  /** Gets the line, and the error itself the first time a cause other than an outage is seen (its stack helps). */
  log?: (line: string, error?: unknown) => void;
  clock?: () => number;
}

/**
 * Logs one line per cause instead of one per attempt: during an outage every reconnecting tab hits
 * the same failure several times a second, and a stack trace each time buries everything else.
 * The first occurrence is logged; repeats within the window are counted and reported with the next
 * line for that cause.
 */
export function createCauseLog(options: CauseLogOptions = {}) {
  const windowMs = options.windowMs ?? 60_000;
  const log =
    options.log ??
    ((line: string, error?: unknown) => (error ? console.error(line, error) : console.error(line)));
  const clock = options.clock ?? Date.now;
  const seen = new Map<string, { at: number; repeats: number }>();
  return (what: string, error: unknown): void => {
    const cause = describeCause(error);
    const key = `${what}: ${cause}`;
    const now = clock();
    const last = seen.get(key);
    if (last && now - last.at < windowMs) {
      last.repeats++;
      return;
    }
    const repeats = last?.repeats ? ` (${last.repeats} more since the last report)` : '';
    seen.set(key, { at: now, repeats: 0 });
    // Bounded: causes are few, but a message carrying ids must not grow the map without end.
    if (seen.size > 1000) seen.delete(seen.keys().next().value as string);
    const firstOfABug = !last && !isDatabaseUnavailable(error);
    log(`${key}${repeats}`, firstOfABug ? error : undefined);
  };
}

/** A short, stable description of an error: the same outage gives the same line. */
export function describeCause(error: unknown): string {
  if (isDatabaseUnavailable(error)) return 'the database is unavailable';
  if (error instanceof Error) return `${error.name}: ${error.message.split('\n')[0]}`;
  return String(error);
}

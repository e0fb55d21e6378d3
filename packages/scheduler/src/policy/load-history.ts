import type { LoadSample } from './autoscale.ts';

interface Entry extends LoadSample {
  /** When the next sample replaced this one as the load now; Infinity for the latest. */
  until: number;
}

/**
 * The load samples the autoscaler needs, bounded. `autoscale` only uses the latest sample and the
 * highest load that held at any moment of the scale-down window (the sample before the window counts
 * until the window's first one). A sample whose load is at or below a later one's never decides that
 * highest load, so it is dropped on arrival (a sliding-window maximum): what is kept has strictly
 * falling loads, at most one entry per load level, however many calls come in the window.
 */
export class LoadHistory {
  private entries: Entry[] = [];

  /** Records the load at `at` (a clock that steps back is read as no time passing). */
  record(at: number, inputs: number): void {
    const last = this.entries.at(-1);
    const time = last ? Math.max(at, last.at) : at;
    if (last) last.until = time;
    while ((this.entries.at(-1)?.inputs ?? Number.POSITIVE_INFINITY) <= inputs) this.entries.pop();
    this.entries.push({ at: time, inputs, until: Number.POSITIVE_INFINITY });
  }

  /**
   * The samples to hand `autoscale` for a window of `windowMs` ending at `now`: it decides on them
   * exactly as on every sample recorded. Forgets what can no longer count for a later `now`.
   */
  samples(now: number, windowMs: number): readonly LoadSample[] {
    const windowStart = now - windowMs;
    let drop = 0;
    while (drop < this.entries.length - 1 && (this.entries[drop] as Entry).until <= windowStart) drop++;
    if (drop > 0) this.entries.splice(0, drop);
    return this.entries;
  }

  /** How many samples are held (for tests and metrics). */
  get size(): number {
    return this.entries.length;
  }
}

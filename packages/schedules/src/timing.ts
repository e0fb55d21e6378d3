import { DomainError } from '@kiln/core';
import { Cron } from 'croner';

/** When a schedule fires: a five-field cron expression read in an IANA time zone, or a fixed period. */
export type Timing =
  | { kind: 'cron'; expression: string; timeZone: string }
  | { kind: 'period'; seconds: number };

export const MIN_PERIOD_SECONDS = 60;
export const MAX_PERIOD_SECONDS = 366 * 24 * 3600;

function invalid(field: string, message: string): DomainError {
  return new DomainError('VALIDATION_FAILED', message, { field });
}

/** Whether `timeZone` is an IANA zone this runtime knows (e.g. Europe/Berlin, UTC). */
export function isTimeZone(timeZone: string): boolean {
  if (timeZone.length > 64) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return true;
  } catch {
    return false;
  }
}

function cronOf(expression: string, timeZone: string): Cron {
  // Minute precision: a seconds field would let one schedule start a notebook every second.
  if (expression.trim().split(/\s+/).length !== 5) {
    throw invalid('cron', 'A cron expression has five fields: minute hour day-of-month month day-of-week');
  }
  try {
    return new Cron(expression, { timezone: timeZone, paused: true });
  } catch (error) {
    throw invalid(
      'cron',
      `Not a valid cron expression: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

/** Checks a timing; throws VALIDATION_FAILED naming what is wrong. */
export function validateTiming(timing: Timing): Timing {
  if (timing.kind === 'period') {
    if (
      !Number.isInteger(timing.seconds) ||
      timing.seconds < MIN_PERIOD_SECONDS ||
      timing.seconds > MAX_PERIOD_SECONDS
    ) {
      throw invalid(
        'periodSeconds',
        `A period is a whole number of seconds from ${MIN_PERIOD_SECONDS} to one year`,
      );
    }
    return timing;
  }
  if (!isTimeZone(timing.timeZone))
    throw invalid('timeZone', `${timing.timeZone.slice(0, 64)} is not a known time zone`);
  if (timing.expression.length > 200) throw invalid('cron', 'A cron expression is at most 200 characters');
  if (!cronOf(timing.expression, timing.timeZone).nextRun(new Date())) {
    throw invalid('cron', 'This cron expression never fires');
  }
  return timing;
}

/**
 * The first tick strictly after `after`. A period counts from `anchor` (the schedule's creation),
 * so ticks stay on the same grid however late the loop looks. Across DST changes a cron tick in
 * the skipped hour fires once at the end of the gap, and one in the repeated hour fires once.
 */
export function nextTick(timing: Timing, after: Date, anchor: Date): Date | null {
  if (timing.kind === 'period') {
    const periodMs = timing.seconds * 1000;
    const elapsed = after.getTime() - anchor.getTime();
    const steps = elapsed < 0 ? 0 : Math.floor(elapsed / periodMs) + 1;
    return new Date(anchor.getTime() + steps * periodMs);
  }
  return cronOf(timing.expression, timing.timeZone).nextRun(after);
}

/** Ticks in `(after, until]`, oldest first, at most `limit` (the newest ones are kept when there are more). */
export function ticksBetween(timing: Timing, after: Date, until: Date, anchor: Date, limit: number): Date[] {
  const ticks: Date[] = [];
  let cursor = after;
  for (;;) {
    const next = nextTick(timing, cursor, anchor);
    if (!next || next > until) return ticks;
    ticks.push(next);
    if (ticks.length > limit) ticks.shift();
    cursor = next;
  }
}

import { describe, expect, it } from 'vitest';
import { nextTick, type Timing, ticksBetween, validateTiming } from './timing.ts';

const anchor = new Date('2026-01-01T00:00:00Z');
const cron = (expression: string, timeZone: string): Timing => ({ kind: 'cron', expression, timeZone });
const iso = (dates: Date[]) => dates.map((date) => date.toISOString());

describe('cron timing across DST changes', () => {
  it('a daily 02:30 in New York fires once on the spring-forward day, at the end of the gap', () => {
    const ticks = ticksBetween(
      cron('30 2 * * *', 'America/New_York'),
      new Date('2026-03-06T12:00:00Z'),
      new Date('2026-03-10T12:00:00Z'),
      anchor,
      100,
    );
    // 02:30 EST is 07:30Z; on 8 March 02:30 does not exist and the run comes at 03:00 EDT (07:00Z).
    expect(iso(ticks)).toEqual([
      '2026-03-07T07:30:00.000Z',
      '2026-03-08T07:00:00.000Z',
      '2026-03-09T06:30:00.000Z',
      '2026-03-10T06:30:00.000Z',
    ]);
  });

  it('a daily 01:30 in New York fires once on the fall-back day, though 01:30 happens twice', () => {
    const ticks = ticksBetween(
      cron('30 1 * * *', 'America/New_York'),
      new Date('2026-10-31T12:00:00Z'),
      new Date('2026-11-02T12:00:00Z'),
      anchor,
      100,
    );
    expect(iso(ticks)).toEqual(['2026-11-01T05:30:00.000Z', '2026-11-02T06:30:00.000Z']);
  });

  it('an hourly schedule keeps firing every real hour through the repeated hour', () => {
    const ticks = ticksBetween(
      cron('0 * * * *', 'America/New_York'),
      new Date('2026-11-01T04:30:00Z'),
      new Date('2026-11-01T07:30:00Z'),
      anchor,
      100,
    );
    expect(iso(ticks)).toEqual([
      '2026-11-01T05:00:00.000Z',
      '2026-11-01T06:00:00.000Z',
      '2026-11-01T07:00:00.000Z',
    ]);
  });

  it('reads the expression in its time zone, not the server one', () => {
    const tick = nextTick(cron('0 9 * * 1', 'Asia/Tokyo'), new Date('2026-06-01T00:00:00Z'), anchor);
    // Monday 09:00 in Tokyo is 00:00Z the same day.
    expect(tick?.toISOString()).toBe('2026-06-08T00:00:00.000Z');
  });
});

describe('period timing', () => {
  it('stays on the grid from its anchor however late it is asked', () => {
    const timing: Timing = { kind: 'period', seconds: 3600 };
    expect(nextTick(timing, new Date('2026-01-01T05:59:59Z'), anchor)?.toISOString()).toBe(
      '2026-01-01T06:00:00.000Z',
    );
    expect(nextTick(timing, new Date('2026-01-01T06:00:00Z'), anchor)?.toISOString()).toBe(
      '2026-01-01T07:00:00.000Z',
    );
  });

  it('keeps the newest ticks when more than the limit are due', () => {
    const ticks = ticksBetween(
      { kind: 'period', seconds: 60 },
      anchor,
      new Date('2026-01-01T01:00:00Z'),
      anchor,
      3,
    );
    expect(iso(ticks)).toEqual([
      '2026-01-01T00:58:00.000Z',
      '2026-01-01T00:59:00.000Z',
      '2026-01-01T01:00:00.000Z',
    ]);
  });
});

describe('validateTiming', () => {
  const code = (timing: Timing) => {
    try {
      validateTiming(timing);
      return 'OK';
    } catch (error) {
      return (error as { code: string }).code;
    }
  };
  it('refuses seconds fields, unknown zones, nonsense and too-short periods', () => {
    expect(code(cron('*/5 * * * *', 'Europe/Berlin'))).toBe('OK');
    expect(code(cron('* * * * * *', 'UTC'))).toBe('VALIDATION_FAILED');
    expect(code(cron('0 9 * * *', 'Mars/Olympus'))).toBe('VALIDATION_FAILED');
    expect(code(cron('61 * * * *', 'UTC'))).toBe('VALIDATION_FAILED');
    expect(code(cron('0 0 30 2 *', 'UTC'))).toBe('VALIDATION_FAILED');
    expect(code({ kind: 'period', seconds: 59 })).toBe('VALIDATION_FAILED');
    expect(code({ kind: 'period', seconds: 3600 })).toBe('OK');
  });
});

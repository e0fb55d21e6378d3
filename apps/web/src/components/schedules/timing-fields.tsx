'use client';
import { useState } from 'react';
import type { Schedule } from './schedule-runs.tsx';

const browserZone = () => Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';

/**
 * A schedule form's "when" fields (cron expression and time zone, or a period in minutes) and its
 * retries; `settings()` gives what the create and update procedures take.
 */
export function useTimingFields(schedule: Schedule | null, defaults: { cron: string }) {
  const [kind, setKind] = useState<'cron' | 'period'>(schedule?.timing.kind ?? 'cron');
  const [expression, setExpression] = useState(
    schedule?.timing.kind === 'cron' ? schedule.timing.expression : defaults.cron,
  );
  const [timeZone, setTimeZone] = useState(
    schedule?.timing.kind === 'cron' ? schedule.timing.timeZone : browserZone(),
  );
  const [minutes, setMinutes] = useState(
    String(schedule?.timing.kind === 'period' ? schedule.timing.seconds / 60 : 60),
  );
  const [maxRetries, setMaxRetries] = useState(String(schedule?.maxRetries ?? 2));
  const settings = () => ({
    timing:
      kind === 'cron'
        ? { kind, expression: expression.trim(), timeZone: timeZone.trim() }
        : { kind, seconds: Math.round(Number(minutes) * 60) },
    maxRetries: Number(maxRetries),
  });
  const fields = (
    <>
      <label className="field">
        <span>Runs</span>
        <select
          className="select"
          value={kind}
          onChange={(e) => setKind(e.target.value as 'cron' | 'period')}
        >
          <option value="cron">On a cron expression</option>
          <option value="period">Every fixed period</option>
        </select>
      </label>
      {kind === 'cron' ? (
        <>
          <label className="field">
            <span>Cron expression</span>
            <input className="input" value={expression} onChange={(e) => setExpression(e.target.value)} />
          </label>
          <label className="field">
            <span>Time zone</span>
            <input className="input" value={timeZone} onChange={(e) => setTimeZone(e.target.value)} />
          </label>
        </>
      ) : (
        <label className="field">
          <span>Every (minutes)</span>
          <input
            className="input"
            type="number"
            min="1"
            value={minutes}
            onChange={(e) => setMinutes(e.target.value)}
          />
        </label>
      )}
      <label className="field">
        <span>Retries after a failure</span>
        <input
          className="input"
          type="number"
          min="0"
          max="10"
          value={maxRetries}
          onChange={(e) => setMaxRetries(e.target.value)}
        />
      </label>
    </>
  );
  return { fields, settings };
}

'use client';
import { useQuery } from '@tanstack/react-query';
import { formatDateTime } from '../../lib/format.ts';
import { formatMicros } from '../../lib/money.ts';
import type { RouterOutputs } from '../../lib/router-types.ts';
import { useTRPC } from '../../lib/trpc.ts';
import { ErrorAlert, Loading } from '../status.tsx';

export type Schedule = RouterOutputs['schedule']['list'][number];

/** "cron 0 6 * * * (Europe/Berlin)" or "every 15 min". */
export function describeTiming(schedule: Schedule): string {
  const timing = schedule.timing;
  if (timing.kind === 'cron') return `cron ${timing.expression} (${timing.timeZone})`;
  const minutes = timing.seconds / 60;
  return minutes % 60 === 0 ? `every ${minutes / 60} h` : `every ${minutes} min`;
}

function duration(ms: number | null): string {
  if (ms === null) return '—';
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/**
 * A schedule's runs, newest first: status, duration, cost, and what came out (a notebook run's log,
 * an endpoint call's result), refreshed while the page is open.
 */
export function ScheduleRuns(props: {
  workspaceId: string;
  scheduleId: string;
  /** What the cost column counts (its tooltip). */
  costTitle: string;
  formatCost?(micros: number): string;
}) {
  const formatCost = props.formatCost ?? ((micros: number) => formatMicros(micros, { precise: true }));
  const trpc = useTRPC();
  const runs = useQuery({
    ...trpc.schedule.runs.queryOptions({ workspaceId: props.workspaceId, scheduleId: props.scheduleId }),
    refetchInterval: 3000,
  });
  if (runs.isPending) return <Loading />;
  if (runs.error) return <ErrorAlert error={runs.error} />;
  if (runs.data.length === 0) return <p className="muted small">No runs yet.</p>;
  return (
    <table className="table" aria-label="Scheduled runs">
      <thead>
        <tr>
          <th scope="col">Tick</th>
          <th scope="col">Status</th>
          <th scope="col">Duration</th>
          <th scope="col">Cost</th>
          <th scope="col">Output</th>
        </tr>
      </thead>
      <tbody>
        {runs.data.map((run) => (
          <tr key={run.id}>
            <td className="nowrap">{formatDateTime(run.tick)}</td>
            <td>
              {run.status}
              {run.attempt > 1 ? ` (attempt ${run.attempt})` : ''}
              {run.nextAttemptAt ? (
                <div className="muted small">retry {formatDateTime(run.nextAttemptAt)}</div>
              ) : null}
            </td>
            <td className="nowrap">{duration(run.durationMs)}</td>
            <td className="nowrap" title={props.costTitle}>
              {run.costMicros === null ? '—' : formatCost(run.costMicros)}
            </td>
            <td>
              {run.result !== null ? <code className="small">{run.result}</code> : null}
              {run.error ? <pre className="small">{run.error}</pre> : null}
              {run.log ? (
                <details>
                  <summary className="small">Log</summary>
                  <pre className="small">{run.log}</pre>
                </details>
              ) : null}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

'use client';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { CalendarClock } from 'lucide-react';
import { useState } from 'react';
import { formatDateTime } from '../../lib/format.ts';
import { hasRole } from '../../lib/roles.ts';
import type { RouterOutputs } from '../../lib/router-types.ts';
import { useTRPC } from '../../lib/trpc.ts';
import { Dialog } from '../dialog.tsx';
import { ErrorAlert, Loading } from '../status.tsx';
import type { Workspace } from '../workspace/workspace-context.tsx';

type Schedule = RouterOutputs['schedule']['list'][number];

const browserZone = () => Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';

function describe(schedule: Schedule): string {
  const timing = schedule.timing;
  if (timing.kind === 'cron') return `cron ${timing.expression} (${timing.timeZone})`;
  const minutes = timing.seconds / 60;
  return minutes % 60 === 0 ? `every ${minutes / 60} h` : `every ${minutes} min`;
}

function duration(ms: number | null): string {
  if (ms === null) return '—';
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

function RunList(props: { workspaceId: string; scheduleId: string }) {
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
            <td>
              {run.error ? <div className="small">{run.error}</div> : null}
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

function ScheduleForm(props: {
  workspace: Workspace;
  notebookId: string;
  schedule: Schedule | null;
  onSaved(): void;
}) {
  const { workspace, notebookId, schedule } = props;
  const trpc = useTRPC();
  const [kind, setKind] = useState<'cron' | 'period'>(schedule?.timing.kind ?? 'cron');
  const [expression, setExpression] = useState(
    schedule?.timing.kind === 'cron' ? schedule.timing.expression : '0 6 * * *',
  );
  const [timeZone, setTimeZone] = useState(
    schedule?.timing.kind === 'cron' ? schedule.timing.timeZone : browserZone(),
  );
  const [minutes, setMinutes] = useState(
    String(schedule?.timing.kind === 'period' ? schedule.timing.seconds / 60 : 60),
  );
  const [maxRetries, setMaxRetries] = useState(String(schedule?.maxRetries ?? 2));
  const options = { onSuccess: props.onSaved };
  const create = useMutation(trpc.schedule.create.mutationOptions(options));
  const update = useMutation(trpc.schedule.update.mutationOptions(options));
  const pending = create.isPending || update.isPending;
  return (
    <form
      className="form"
      onSubmit={(event) => {
        event.preventDefault();
        const timing =
          kind === 'cron'
            ? { kind, expression: expression.trim(), timeZone: timeZone.trim() }
            : { kind, seconds: Math.round(Number(minutes) * 60) };
        const settings = { workspaceId: workspace.id, timing, maxRetries: Number(maxRetries) };
        if (schedule) update.mutate({ ...settings, scheduleId: schedule.id });
        else create.mutate({ ...settings, notebookId });
      }}
    >
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
      <ErrorAlert error={create.error ?? update.error} />
      <div>
        <button type="submit" className="btn btn-primary" disabled={pending}>
          {pending ? 'Saving…' : schedule ? 'Save schedule' : 'Create schedule'}
        </button>
      </div>
    </form>
  );
}

/** The notebook's schedule: "run all" headless on a cron expression or a period, and its runs. */
export function NotebookScheduleButton(props: { workspace: Workspace; notebookId: string }) {
  const { workspace, notebookId } = props;
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [open, setOpen] = useState(false);
  const canEdit = hasRole(workspace.role, 'EDITOR');
  const listKey = { workspaceId: workspace.id, notebookId };
  const schedules = useQuery({ ...trpc.schedule.list.queryOptions(listKey), enabled: open });
  const refresh = () => queryClient.invalidateQueries({ queryKey: trpc.schedule.list.queryKey(listKey) });
  const pause = useMutation(trpc.schedule.setPaused.mutationOptions({ onSuccess: refresh }));
  const remove = useMutation(trpc.schedule.delete.mutationOptions({ onSuccess: refresh }));
  const schedule = schedules.data?.[0] ?? null;
  return (
    <>
      <button type="button" className="btn btn-small" onClick={() => setOpen(true)}>
        <CalendarClock size={15} aria-hidden="true" />
        Schedule
      </button>
      <Dialog open={open} title="Schedule" className="dialog-wide" onClose={() => setOpen(false)}>
        <p className="muted small">
          A scheduled run runs all cells headless, with this notebook's machine and secrets, and saves the
          outputs as a new version. Ticks missed while Kiln was down are listed as missed.
        </p>
        {schedules.isPending ? <Loading /> : null}
        <ErrorAlert error={schedules.error ?? pause.error ?? remove.error} />
        {schedule ? (
          <p role="status">
            <strong>{schedule.paused ? 'Paused' : 'Active'}</strong>: {describe(schedule)}
            {schedule.nextRunAt && !schedule.paused ? `, next ${formatDateTime(schedule.nextRunAt)}` : ''}
          </p>
        ) : null}
        {canEdit && schedules.isSuccess ? (
          <ScheduleForm
            key={schedule?.id ?? 'new'}
            workspace={workspace}
            notebookId={notebookId}
            schedule={schedule}
            onSaved={() => void refresh()}
          />
        ) : null}
        {canEdit && schedule ? (
          <div className="row">
            <button
              type="button"
              className="btn btn-small"
              onClick={() =>
                pause.mutate({ workspaceId: workspace.id, scheduleId: schedule.id, paused: !schedule.paused })
              }
            >
              {schedule.paused ? 'Resume' : 'Pause'}
            </button>{' '}
            <button
              type="button"
              className="btn btn-small btn-danger"
              onClick={() => remove.mutate({ workspaceId: workspace.id, scheduleId: schedule.id })}
            >
              Delete schedule
            </button>
          </div>
        ) : null}
        {schedule ? <RunList workspaceId={workspace.id} scheduleId={schedule.id} /> : null}
        {!schedule && !canEdit && schedules.isSuccess ? (
          <p className="muted">This notebook has no schedule.</p>
        ) : null}
        <div className="dialog-actions">
          <button type="button" className="btn" onClick={() => setOpen(false)}>
            Done
          </button>
        </div>
      </Dialog>
    </>
  );
}

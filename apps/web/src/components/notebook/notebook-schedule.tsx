'use client';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { CalendarClock } from 'lucide-react';
import { useState } from 'react';
import { formatDateTime } from '../../lib/format.ts';
import { hasRole } from '../../lib/roles.ts';
import { useTRPC } from '../../lib/trpc.ts';
import { Dialog } from '../dialog.tsx';
import { describeTiming, type Schedule, ScheduleRuns } from '../schedules/schedule-runs.tsx';
import { useTimingFields } from '../schedules/timing-fields.tsx';
import { ErrorAlert, Loading } from '../status.tsx';
import type { Workspace } from '../workspace/workspace-context.tsx';

function ScheduleForm(props: {
  workspace: Workspace;
  notebookId: string;
  schedule: Schedule | null;
  onSaved(): void;
}) {
  const { workspace, notebookId, schedule } = props;
  const trpc = useTRPC();
  const { fields, settings } = useTimingFields(schedule, { cron: '0 6 * * *' });
  const options = { onSuccess: props.onSaved };
  const create = useMutation(trpc.schedule.create.mutationOptions(options));
  const update = useMutation(trpc.schedule.update.mutationOptions(options));
  const pending = create.isPending || update.isPending;
  return (
    <form
      className="form"
      onSubmit={(event) => {
        event.preventDefault();
        const input = { workspaceId: workspace.id, ...settings() };
        if (schedule) update.mutate({ ...input, scheduleId: schedule.id });
        else create.mutate({ ...input, notebookId });
      }}
    >
      {fields}
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
            <strong>{schedule.paused ? 'Paused' : 'Active'}</strong>: {describeTiming(schedule)}
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
        {schedule ? (
          <ScheduleRuns
            workspaceId={workspace.id}
            scheduleId={schedule.id}
            costTitle="What the notebook's kernel cost while the run ran"
          />
        ) : null}
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

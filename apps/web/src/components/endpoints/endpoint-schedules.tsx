'use client';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useId, useState } from 'react';
import { formatDateTime } from '../../lib/format.ts';
import { useTRPC } from '../../lib/trpc.ts';
import { describeTiming, type Schedule, ScheduleRuns } from '../schedules/schedule-runs.tsx';
import { useTimingFields } from '../schedules/timing-fields.tsx';
import { ErrorAlert, Loading } from '../status.tsx';
import { formatNanoDollars } from './endpoint-format.ts';

/** Parses the arguments box: a JSON object, or a message saying what is wrong with the text. */
function parseArgs(text: string): { args: unknown } | { error: string } {
  try {
    return { args: JSON.parse(text.trim() || '{}') };
  } catch (error) {
    return {
      error: `Arguments are not valid JSON: ${error instanceof Error ? error.message : String(error)}`,
    };
  }
}

/**
 * A new endpoint schedule, or an existing one's timing, retries and arguments (`schedule`). A rejected
 * save (bad JSON, arguments the server refuses) keeps the form and the schedule as they were.
 */
function ScheduleForm(props: {
  workspaceId: string;
  endpointId: string;
  sample: unknown;
  schedule?: Schedule;
  onSaved(): void;
  onCancel?(): void;
}) {
  const { schedule } = props;
  const trpc = useTRPC();
  const id = useId();
  const { fields, settings } = useTimingFields(schedule ?? null, { cron: '0 * * * *' });
  const [argsText, setArgsText] = useState(
    JSON.stringify(schedule?.target.kind === 'endpoint' ? schedule.target.args : (props.sample ?? {})),
  );
  const [argsError, setArgsError] = useState<string | null>(null);
  const create = useMutation(trpc.schedule.createForEndpoint.mutationOptions({ onSuccess: props.onSaved }));
  const update = useMutation(trpc.schedule.update.mutationOptions({ onSuccess: props.onSaved }));
  const saving = create.isPending || update.isPending;
  return (
    <form
      className="form"
      aria-label={schedule ? `Edit schedule ${describeTiming(schedule)}` : 'New schedule'}
      onSubmit={(event) => {
        event.preventDefault();
        const parsed = parseArgs(argsText);
        setArgsError('error' in parsed ? parsed.error : null);
        if ('error' in parsed) return;
        if (schedule)
          update.mutate({
            workspaceId: props.workspaceId,
            scheduleId: schedule.id,
            ...settings(),
            args: parsed.args,
          });
        else
          create.mutate({
            workspaceId: props.workspaceId,
            endpointId: props.endpointId,
            ...settings(),
            args: parsed.args,
          });
      }}
    >
      {fields}
      <div className="field">
        <label htmlFor={`${id}-args`}>Arguments (JSON)</label>
        <textarea
          id={`${id}-args`}
          className="input mono"
          rows={3}
          aria-describedby={`${id}-args-hint`}
          aria-invalid={argsError ? true : undefined}
          value={argsText}
          onChange={(e) => setArgsText(e.target.value)}
        />
        <span id={`${id}-args-hint`} className="hint">
          The keyword arguments of every call, as a JSON object.
        </span>
      </div>
      <ErrorAlert error={create.error ?? update.error}>{argsError}</ErrorAlert>
      <div className="row">
        <button type="submit" className="btn btn-primary" disabled={saving}>
          {saving ? 'Saving…' : schedule ? 'Save schedule' : 'Create schedule'}
        </button>
        {props.onCancel ? (
          <button type="button" className="btn" onClick={props.onCancel}>
            Cancel
          </button>
        ) : null}
      </div>
    </form>
  );
}

function ScheduleRow(props: {
  schedule: Schedule;
  workspaceId: string;
  endpointId: string;
  canEdit: boolean;
  onChange(): void;
}) {
  const { schedule, workspaceId } = props;
  const trpc = useTRPC();
  const [open, setOpen] = useState(false);
  const [editing, setEditing] = useState(false);
  const pause = useMutation(trpc.schedule.setPaused.mutationOptions({ onSuccess: props.onChange }));
  const remove = useMutation(trpc.schedule.delete.mutationOptions({ onSuccess: props.onChange }));
  const args = schedule.target.kind === 'endpoint' ? JSON.stringify(schedule.target.args) : '';
  const name = describeTiming(schedule);
  return (
    <li className="card">
      <p>
        <strong>{schedule.paused ? 'Paused' : 'Active'}</strong>: {name} with <code>{args}</code>
        {schedule.nextRunAt && !schedule.paused ? `, next ${formatDateTime(schedule.nextRunAt)}` : ''}
      </p>
      <ErrorAlert error={pause.error ?? remove.error} />
      <div className="row">
        <button type="button" className="btn btn-small" aria-expanded={open} onClick={() => setOpen(!open)}>
          {open ? 'Hide runs' : 'Runs'}
        </button>
        {props.canEdit ? (
          <>
            <button
              type="button"
              className="btn btn-small"
              aria-expanded={editing}
              aria-label={`Edit schedule ${name}`}
              onClick={() => setEditing(!editing)}
            >
              Edit
            </button>
            <button
              type="button"
              className="btn btn-small"
              onClick={() => pause.mutate({ workspaceId, scheduleId: schedule.id, paused: !schedule.paused })}
            >
              {schedule.paused ? 'Resume' : 'Pause'}
            </button>
            <button
              type="button"
              className="btn btn-small btn-danger"
              aria-label={`Delete schedule ${name}`}
              onClick={() => remove.mutate({ workspaceId, scheduleId: schedule.id })}
            >
              Delete
            </button>
          </>
        ) : null}
      </div>
      {props.canEdit && editing ? (
        <ScheduleForm
          workspaceId={workspaceId}
          endpointId={props.endpointId}
          sample={null}
          schedule={schedule}
          onSaved={() => {
            setEditing(false);
            props.onChange();
          }}
          onCancel={() => setEditing(false)}
        />
      ) : null}
      {open ? (
        <ScheduleRuns
          workspaceId={workspaceId}
          scheduleId={schedule.id}
          costTitle="The call's share of its replica, as for an HTTP request"
          formatCost={(micros) => formatNanoDollars(micros * 1000)}
        />
      ) : null}
    </li>
  );
}

/**
 * An endpoint's schedules: its live version called with fixed arguments on a cron expression or a
 * period, each call in the request log (method SCHEDULE); a tick while the last call still runs is
 * skipped, not queued.
 */
export function EndpointSchedules(props: {
  workspaceId: string;
  endpointId: string;
  canEdit: boolean;
  sampleInput: unknown;
}) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const key = { workspaceId: props.workspaceId, endpointId: props.endpointId };
  const schedules = useQuery(trpc.schedule.list.queryOptions(key));
  const [adding, setAdding] = useState(false);
  const refresh = () => queryClient.invalidateQueries({ queryKey: trpc.schedule.list.queryKey(key) });
  return (
    <section className="card" aria-labelledby="schedules-heading">
      <h2 id="schedules-heading">Schedules</h2>
      <p className="muted small">
        Calls the live version (after a rollback, the version rolled back to) with fixed arguments, billed and
        logged like a request. A tick that comes while the previous call still runs is skipped.
      </p>
      {schedules.isPending ? <Loading /> : null}
      <ErrorAlert error={schedules.error} />
      {schedules.data?.length === 0 ? <p className="muted small">No schedules.</p> : null}
      {schedules.data && schedules.data.length > 0 ? (
        <ul className="schedule-list">
          {schedules.data.map((schedule) => (
            <ScheduleRow
              key={schedule.id}
              schedule={schedule}
              workspaceId={props.workspaceId}
              endpointId={props.endpointId}
              canEdit={props.canEdit}
              onChange={() => void refresh()}
            />
          ))}
        </ul>
      ) : null}
      {props.canEdit && !adding ? (
        <button type="button" className="btn" onClick={() => setAdding(true)}>
          New schedule
        </button>
      ) : null}
      {props.canEdit && adding ? (
        <ScheduleForm
          workspaceId={props.workspaceId}
          endpointId={props.endpointId}
          sample={props.sampleInput}
          onSaved={() => {
            setAdding(false);
            void refresh();
          }}
        />
      ) : null}
    </section>
  );
}

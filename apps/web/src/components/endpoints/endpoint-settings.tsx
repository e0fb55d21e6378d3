'use client';
import { useMutation } from '@tanstack/react-query';
import { useState } from 'react';
import type { RouterOutputs } from '../../lib/router-types.ts';
import { useTRPC } from '../../lib/trpc.ts';
import { TextField } from '../field.tsx';
import { ErrorAlert } from '../status.tsx';

type Settings = RouterOutputs['endpoint']['get']['endpoint']['settings'];

/** The autoscaling and limit fields, in the order the form shows them, with what each one means. */
const FIELDS = [
  ['minReplicas', 'Minimum replicas', 'Kept running even when idle; 0 scales to zero'],
  ['maxReplicas', 'Maximum replicas', 'Never more than this, however many calls wait'],
  ['bufferReplicas', 'Buffer replicas', 'Idle replicas kept ready beyond the current load'],
  ['scaleDownSeconds', 'Scale-down window (s)', 'How long a replica stays idle before it stops'],
  [
    'targetConcurrency',
    'Concurrent calls per replica',
    'Calls one replica takes at once; the autoscaler divides the load by it',
  ],
  ['timeoutSeconds', 'Timeout (s)', 'A call waiting and running longer gets 504'],
  ['queueLimit', 'Queue limit', 'Calls that may wait for a replica; past it, 503 with Retry-After'],
] as const satisfies readonly (readonly [keyof Settings, string, string])[];

type Field = (typeof FIELDS)[number][0];

function fieldErrorsOf(error: unknown): Partial<Record<string, string>> {
  const errors = (error as { data?: { fieldErrors?: Record<string, string[]> | null } } | null)?.data
    ?.fieldErrors;
  return Object.fromEntries(Object.entries(errors ?? {}).map(([field, messages]) => [field, messages[0]]));
}

/**
 * An endpoint's autoscaling, timeout and queue, for editors: each field checked on the server (the
 * message shows under the field it is about); a refused change saves nothing and keeps what was typed.
 */
export function EndpointSettingsForm(props: {
  workspaceId: string;
  endpointId: string;
  settings: Settings;
  canEdit: boolean;
  onSaved(): void;
}) {
  const trpc = useTRPC();
  const initial = () =>
    Object.fromEntries(FIELDS.map(([field]) => [field, String(props.settings[field])])) as Record<
      Field,
      string
    >;
  const [values, setValues] = useState(initial);
  const [localErrors, setLocalErrors] = useState<Partial<Record<Field, string>>>({});
  const update = useMutation(trpc.endpoint.update.mutationOptions({ onSuccess: () => props.onSaved() }));
  const serverErrors = fieldErrorsOf(update.error);
  const errors: Partial<Record<string, string>> = { ...serverErrors, ...localErrors };
  const unplaced = update.error && !FIELDS.some(([field]) => serverErrors[field]) ? update.error : null;

  function submit() {
    const parsed: Partial<Record<Field, number>> = {};
    const problems: Partial<Record<Field, string>> = {};
    for (const [field, label] of FIELDS) {
      const text = values[field].trim();
      const value = Number(text);
      if (text === '' || !Number.isFinite(value)) problems[field] = `${label}: enter a number`;
      else parsed[field] = value;
    }
    setLocalErrors(problems);
    if (Object.keys(problems).length > 0) return;
    update.mutate({ workspaceId: props.workspaceId, endpointId: props.endpointId, settings: parsed });
  }

  return (
    <section className="card" aria-labelledby="settings-heading">
      <h2 id="settings-heading">Scaling and limits</h2>
      <form
        className="form"
        aria-label="Endpoint settings"
        noValidate
        onSubmit={(event) => {
          event.preventDefault();
          submit();
        }}
      >
        <fieldset className="form-row" disabled={!props.canEdit}>
          <legend className="visually-hidden">Autoscaling</legend>
          {FIELDS.map(([field, label, hint]) => (
            <TextField
              key={field}
              label={label}
              hint={hint}
              type="number"
              inputMode="numeric"
              value={values[field]}
              error={errors[field] ?? null}
              onChange={(event) => {
                const value = event.target.value;
                setValues((current) => ({ ...current, [field]: value }));
              }}
            />
          ))}
        </fieldset>
        <ErrorAlert error={unplaced} />
        {update.isSuccess && !update.isPending ? (
          <p className="muted small" role="status">
            Saved: new calls use these settings.
          </p>
        ) : null}
        {props.canEdit ? (
          <div className="dialog-actions">
            <button type="submit" className="btn btn-primary" disabled={update.isPending}>
              {update.isPending ? 'Saving…' : 'Save settings'}
            </button>
          </div>
        ) : null}
      </form>
    </section>
  );
}

'use client';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { formatDateTime } from '../../lib/format.ts';
import { hasRole } from '../../lib/roles.ts';
import type { RouterOutputs } from '../../lib/router-types.ts';
import { useTRPC } from '../../lib/trpc.ts';
import { ConfirmDialog } from '../confirm-dialog.tsx';
import { Dialog } from '../dialog.tsx';
import { TextField } from '../field.tsx';
import { ErrorAlert, Loading } from '../status.tsx';
import { SecretVariables, type VariableRow, valuesOf } from './secret-variables.tsx';
import { useWorkspace } from './workspace-context.tsx';

type Secret = RouterOutputs['secret']['list'][number];

function EditSecret(props: { workspaceId: string; secret: Secret; onDone(): void }) {
  const trpc = useTRPC();
  const [rows, setRows] = useState<VariableRow[]>([{ key: '', value: '' }]);
  const [remove, setRemove] = useState<string[]>([]);
  const update = useMutation(trpc.secret.update.mutationOptions({ onSuccess: props.onDone }));
  return (
    <form
      className="form"
      onSubmit={(event) => {
        event.preventDefault();
        const values = valuesOf(rows);
        update.mutate({
          workspaceId: props.workspaceId,
          secretId: props.secret.id,
          ...(Object.keys(values).length > 0 ? { values } : {}),
          remove,
        });
      }}
    >
      <p className="muted small">
        Stored values are never shown. Set a variable to add it or replace its value; variables you leave
        alone keep theirs. Kernels get the change when they next start.
      </p>
      <fieldset className="stack">
        <legend>Remove variables</legend>
        {props.secret.keys.map((key) => (
          <label key={key} className="row small">
            <input
              type="checkbox"
              checked={remove.includes(key)}
              onChange={(e) =>
                setRemove(e.target.checked ? [...remove, key] : remove.filter((k) => k !== key))
              }
            />{' '}
            <code>{key}</code>
          </label>
        ))}
      </fieldset>
      <SecretVariables rows={rows} onChange={setRows} />
      <ErrorAlert error={update.error} />
      <div className="dialog-actions">
        <button type="button" className="btn" onClick={props.onDone}>
          Cancel
        </button>
        <button type="submit" className="btn btn-primary" disabled={update.isPending}>
          {update.isPending ? 'Saving…' : 'Save secret'}
        </button>
      </div>
    </form>
  );
}

/** The workspace's secrets: admins create, change and delete them; everyone else sees names only. */
export function SecretsManager() {
  const { workspace } = useWorkspace();
  const workspaceId = workspace.id;
  const isAdmin = hasRole(workspace.role, 'ADMIN');
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const secrets = useQuery(trpc.secret.list.queryOptions({ workspaceId }));
  const [name, setName] = useState('');
  const [rows, setRows] = useState<VariableRow[]>([{ key: '', value: '' }]);
  const [editing, setEditing] = useState<Secret | null>(null);
  const [deleting, setDeleting] = useState<Secret | null>(null);
  const refresh = () =>
    queryClient.invalidateQueries({ queryKey: trpc.secret.list.queryKey({ workspaceId }) });
  const create = useMutation(
    trpc.secret.create.mutationOptions({
      onSuccess: async () => {
        setName('');
        setRows([{ key: '', value: '' }]);
        await refresh();
      },
    }),
  );
  const remove = useMutation(
    trpc.secret.delete.mutationOptions({
      onSuccess: async () => {
        setDeleting(null);
        await refresh();
      },
    }),
  );

  return (
    <>
      <p className="muted">
        A notebook that names a secret gets its variables as environment variables in its kernel. Values are
        encrypted, never shown again after saving, and masked as <code>********</code> in outputs.
      </p>
      {isAdmin ? (
        <section className="card" aria-labelledby="new-secret-heading">
          <h2 id="new-secret-heading">New secret</h2>
          <form
            className="form"
            onSubmit={(event) => {
              event.preventDefault();
              create.mutate({ workspaceId, name: name.trim(), values: valuesOf(rows) });
            }}
          >
            <TextField
              label="Secret name"
              hint="Lower-case letters, digits, - and _"
              required
              maxLength={63}
              value={name}
              onChange={(e) => setName(e.target.value)}
            />
            <SecretVariables rows={rows} onChange={setRows} />
            <ErrorAlert error={create.error} />
            <div>
              <button type="submit" className="btn btn-primary" disabled={create.isPending || !name.trim()}>
                {create.isPending ? 'Saving…' : 'Create secret'}
              </button>
            </div>
          </form>
        </section>
      ) : (
        <p className="muted small">Only admins and owners can create or change secrets.</p>
      )}

      {secrets.isPending ? <Loading /> : null}
      <ErrorAlert error={secrets.error} />
      {secrets.data?.length === 0 ? <div className="empty">No secrets yet.</div> : null}
      {secrets.data && secrets.data.length > 0 ? (
        <table className="table" aria-label="Secrets">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Variables</th>
              <th scope="col">Updated</th>
              {isAdmin ? (
                <th scope="col" className="actions">
                  <span className="visually-hidden">Actions</span>
                </th>
              ) : null}
            </tr>
          </thead>
          <tbody>
            {secrets.data.map((secret) => (
              <tr key={secret.id}>
                <td>{secret.name}</td>
                <td>
                  {secret.keys.map((key) => (
                    <code key={key} className="secret-key">
                      {key}{' '}
                    </code>
                  ))}
                </td>
                <td className="muted nowrap">{formatDateTime(secret.updatedAt)}</td>
                {isAdmin ? (
                  <td className="actions nowrap">
                    <button
                      type="button"
                      className="btn btn-small"
                      aria-label={`Edit secret ${secret.name}`}
                      onClick={() => setEditing(secret)}
                    >
                      Edit
                    </button>{' '}
                    <button
                      type="button"
                      className="btn btn-small btn-danger"
                      aria-label={`Delete secret ${secret.name}`}
                      onClick={() => {
                        remove.reset();
                        setDeleting(secret);
                      }}
                    >
                      Delete
                    </button>
                  </td>
                ) : null}
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <Dialog
        open={editing !== null}
        title={`Edit secret ${editing?.name ?? ''}`}
        onClose={() => setEditing(null)}
      >
        {editing ? (
          <EditSecret
            workspaceId={workspaceId}
            secret={editing}
            onDone={() => {
              setEditing(null);
              void refresh();
            }}
          />
        ) : null}
      </Dialog>
      <ConfirmDialog
        open={deleting !== null}
        title="Delete secret?"
        confirmLabel="Delete secret"
        pending={remove.isPending}
        error={remove.error}
        onConfirm={() => deleting && remove.mutate({ workspaceId, secretId: deleting.id })}
        onClose={() => setDeleting(null)}
      >
        <p>
          Notebooks using <strong>{deleting?.name}</strong> no longer get its variables when their kernels
          start.
        </p>
      </ConfirmDialog>
    </>
  );
}

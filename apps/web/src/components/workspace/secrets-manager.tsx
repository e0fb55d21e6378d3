'use client';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { formatDateTime } from '../../lib/format.ts';
import { hasRole } from '../../lib/roles.ts';
import type { RouterOutputs } from '../../lib/router-types.ts';
import { useTRPC } from '../../lib/trpc.ts';
import {
  CodeChips,
  DefinitionTable,
  DeleteDefinitionDialog,
  EditDefinitionDialog,
  EditDefinitionForm,
  EditDeleteActions,
  NewDefinitionCard,
} from './definition-list.tsx';
import { SecretMaskingNote } from './secret-masking.tsx';
import { SecretVariables, type VariableRow, valuesOf } from './secret-variables.tsx';
import { useWorkspace } from './workspace-context.tsx';

type Secret = RouterOutputs['secret']['list'][number];

function EditSecret(props: { workspaceId: string; secret: Secret; onDone(): void }) {
  const trpc = useTRPC();
  const [rows, setRows] = useState<VariableRow[]>([{ key: '', value: '' }]);
  const [remove, setRemove] = useState<string[]>([]);
  const update = useMutation(trpc.secret.update.mutationOptions({ onSuccess: props.onDone }));
  return (
    <EditDefinitionForm
      note="Stored values are never shown. Set a variable to add it or replace its value; variables you leave alone keep theirs. Kernels get the change when they next start."
      mutation={update}
      submitLabel="Save secret"
      onCancel={props.onDone}
      onSubmit={() => {
        const values = valuesOf(rows);
        update.mutate({
          workspaceId: props.workspaceId,
          secretId: props.secret.id,
          ...(Object.keys(values).length > 0 ? { values } : {}),
          remove,
        });
      }}
    >
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
    </EditDefinitionForm>
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
        encrypted and never shown again after saving.
      </p>
      <SecretMaskingNote />
      {isAdmin ? (
        <NewDefinitionCard
          noun="secret"
          nameLabel="Secret name"
          nameHint="Lower-case letters, digits, - and _"
          name={name}
          onName={setName}
          mutation={create}
          submitLabel="Create secret"
          pendingLabel="Saving…"
          onSubmit={() => create.mutate({ workspaceId, name: name.trim(), values: valuesOf(rows) })}
        >
          <SecretVariables rows={rows} onChange={setRows} />
        </NewDefinitionCard>
      ) : (
        <p className="muted small">Only admins and owners can create or change secrets.</p>
      )}

      <DefinitionTable
        label="Secrets"
        items={secrets.data}
        pending={secrets.isPending}
        error={secrets.error}
        empty="No secrets yet."
        head={
          <>
            <th scope="col">Name</th>
            <th scope="col">Variables</th>
            <th scope="col">Updated</th>
          </>
        }
        actions={isAdmin}
      >
        {(items) =>
          items.map((secret) => (
            <tr key={secret.id}>
              <td>{secret.name}</td>
              <td>
                <CodeChips names={secret.keys} />
              </td>
              <td className="muted nowrap">{formatDateTime(secret.updatedAt)}</td>
              {isAdmin ? (
                <td className="actions nowrap">
                  <EditDeleteActions
                    noun="secret"
                    name={secret.name}
                    onEdit={() => setEditing(secret)}
                    onDelete={() => {
                      remove.reset();
                      setDeleting(secret);
                    }}
                  />
                </td>
              ) : null}
            </tr>
          ))
        }
      </DefinitionTable>
      <EditDefinitionDialog noun="secret" editing={editing} onClose={() => setEditing(null)}>
        {(secret) => (
          <EditSecret
            workspaceId={workspaceId}
            secret={secret}
            onDone={() => {
              setEditing(null);
              void refresh();
            }}
          />
        )}
      </EditDefinitionDialog>
      <DeleteDefinitionDialog
        noun="secret"
        deleting={deleting}
        mutation={remove}
        onConfirm={() => deleting && remove.mutate({ workspaceId, secretId: deleting.id })}
        onClose={() => setDeleting(null)}
      >
        <p>
          Notebooks using <strong>{deleting?.name}</strong> no longer get its variables when their kernels
          start.
        </p>
      </DeleteDefinitionDialog>
    </>
  );
}

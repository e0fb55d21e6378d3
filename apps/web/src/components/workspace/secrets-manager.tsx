'use client';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { formatDateTime } from '../../lib/format.ts';
import { hasRole } from '../../lib/roles.ts';
import type { RouterOutputs } from '../../lib/router-types.ts';
import { useTRPC } from '../../lib/trpc.ts';
import { CodeChips, EditDefinitionForm, NewDefinitionCard } from './definition-list.tsx';
import { DefinitionManager } from './definition-manager.tsx';
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

      <DefinitionManager
        noun="secret"
        label="Secrets"
        list={secrets}
        error={secrets.error}
        empty="No secrets yet."
        head={
          <>
            <th scope="col">Name</th>
            <th scope="col">Variables</th>
            <th scope="col">Updated</th>
          </>
        }
        cells={(secret) => (
          <>
            <td>{secret.name}</td>
            <td>
              <CodeChips names={secret.keys} />
            </td>
            <td className="muted nowrap">{formatDateTime(secret.updatedAt)}</td>
          </>
        )}
        canManage={isAdmin}
        refresh={refresh}
        edit={(secret, done) => <EditSecret workspaceId={workspaceId} secret={secret} onDone={done} />}
        deleteOptions={(callbacks) => trpc.secret.delete.mutationOptions(callbacks)}
        deleteInput={(secret) => ({ workspaceId, secretId: secret.id })}
        deleteNote={(name) => (
          <p>
            Notebooks using <strong>{name}</strong> no longer get its variables when their kernels start.
          </p>
        )}
      />
    </>
  );
}

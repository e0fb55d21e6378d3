'use client';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { KeyRound } from 'lucide-react';
import Link from 'next/link';
import { useState } from 'react';
import { hasRole } from '../../lib/roles.ts';
import { useTRPC } from '../../lib/trpc.ts';
import { Dialog } from '../dialog.tsx';
import { SaveForm } from '../save-form.tsx';
import { ErrorAlert, Loading } from '../status.tsx';
import { SecretMaskingNote } from '../workspace/secret-masking.tsx';
import type { Workspace } from '../workspace/workspace-context.tsx';

/**
 * The workspace's secrets as checkboxes, names and variable names only (never values): the notebook's
 * picker and the deploy dialog's. `chosen` is in the order their variables apply.
 */
export function SecretChecklist(props: {
  workspace: Workspace;
  chosen: string[];
  onChange(secretIds: string[]): void;
  disabled?: boolean;
  legend: string;
}) {
  const { workspace, chosen, onChange } = props;
  const trpc = useTRPC();
  const all = useQuery(trpc.secret.list.queryOptions({ workspaceId: workspace.id }));
  return (
    <>
      {all.isPending ? <Loading /> : null}
      <ErrorAlert error={all.error} />
      {all.data?.length === 0 ? (
        <p>
          This workspace has no secrets yet; admins add them on the{' '}
          <Link href={`/w/${workspace.slug}/secrets`}>Secrets</Link> page.
        </p>
      ) : null}
      <fieldset className="stack" disabled={props.disabled}>
        <legend className="visually-hidden">{props.legend}</legend>
        {all.data?.map((secret) => (
          <label key={secret.id} className="row small">
            <input
              type="checkbox"
              checked={chosen.includes(secret.id)}
              onChange={(e) =>
                onChange(e.target.checked ? [...chosen, secret.id] : chosen.filter((id) => id !== secret.id))
              }
            />{' '}
            <strong>{secret.name}</strong>
            <span className="muted">{secret.keys.join(', ')}</span>
          </label>
        ))}
      </fieldset>
    </>
  );
}

function SecretPicker(props: {
  workspace: Workspace;
  notebookId: string;
  chosen: string[];
  onClose(): void;
}) {
  const { workspace, notebookId } = props;
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const canEdit = hasRole(workspace.role, 'EDITOR');
  const [chosen, setChosen] = useState(props.chosen);
  const save = useMutation(
    trpc.secret.setForNotebook.mutationOptions({
      onSuccess: async () => {
        await queryClient.invalidateQueries({
          queryKey: trpc.secret.forNotebook.queryKey({ workspaceId: workspace.id, notebookId }),
        });
        props.onClose();
      },
    }),
  );
  return (
    <SaveForm
      canEdit={canEdit}
      save={save}
      submitLabel="Use these secrets"
      onSubmit={() => save.mutate({ workspaceId: workspace.id, notebookId, secretIds: chosen })}
      onClose={props.onClose}
    >
      <p className="muted small">
        The kernel gets the chosen secrets' variables as environment variables when it next starts (restart a
        running kernel to apply a change).
      </p>
      <SecretMaskingNote />
      <SecretChecklist
        workspace={workspace}
        chosen={chosen}
        onChange={setChosen}
        disabled={!canEdit}
        legend="Secrets for this notebook"
      />
    </SaveForm>
  );
}

/** The notebook's secrets (names only) and, for editors, the picker that chooses them. */
export function NotebookSecretsButton(props: { workspace: Workspace; notebookId: string }) {
  const { workspace, notebookId } = props;
  const trpc = useTRPC();
  const [open, setOpen] = useState(false);
  const current = useQuery(trpc.secret.forNotebook.queryOptions({ workspaceId: workspace.id, notebookId }));
  const count = current.data?.length ?? 0;
  return (
    <>
      <button
        type="button"
        className="btn btn-small"
        title={current.data?.map((secret) => secret.name).join(', ') || 'No secrets'}
        onClick={() => setOpen(true)}
      >
        <KeyRound size={15} aria-hidden="true" />
        Secrets{count > 0 ? ` (${count})` : ''}
      </button>
      <Dialog open={open} title="Secrets for this notebook" onClose={() => setOpen(false)}>
        {open && current.data ? (
          <SecretPicker
            workspace={workspace}
            notebookId={notebookId}
            chosen={current.data.map((secret) => secret.id)}
            onClose={() => setOpen(false)}
          />
        ) : (
          <ErrorAlert error={current.error} />
        )}
      </Dialog>
    </>
  );
}

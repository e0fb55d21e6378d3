'use client';
import { useQuery } from '@tanstack/react-query';
import { KeyRound } from 'lucide-react';
import Link from 'next/link';
import { useTRPC } from '../../lib/trpc.ts';
import { SecretMaskingNote } from '../workspace/secret-masking.tsx';
import type { Workspace } from '../workspace/workspace-context.tsx';
import { NotebookPickerButton, WorkspaceChecklist } from './notebook-picker.tsx';

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
    <WorkspaceChecklist
      list={all}
      empty={
        <p>
          This workspace has no secrets yet; admins add them on the{' '}
          <Link href={`/w/${workspace.slug}/secrets`}>Secrets</Link> page.
        </p>
      }
      disabled={props.disabled}
      legend={props.legend}
      row={(secret) => (
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
      )}
    />
  );
}

/** The notebook's secrets (names only) and, for editors, the picker that chooses them. */
export function NotebookSecretsButton(props: { workspace: Workspace; notebookId: string }) {
  const { workspace, notebookId } = props;
  const trpc = useTRPC();
  return (
    <NotebookPickerButton
      workspace={workspace}
      noun="Secrets"
      icon={KeyRound}
      procedures={{
        current: trpc.secret.forNotebook.queryOptions({ workspaceId: workspace.id, notebookId }),
        toChoice: (secret): string => secret.id,
        saveOptions: (callbacks) => trpc.secret.setForNotebook.mutationOptions(callbacks),
        toVariables: (secretIds: string[]) => ({ workspaceId: workspace.id, notebookId, secretIds }),
      }}
      describe={(secret) => secret.name}
      submitLabel="Use these secrets"
    >
      {(choice) => (
        <>
          <p className="muted small">
            The kernel gets the chosen secrets' variables as environment variables when it next starts
            (restart a running kernel to apply a change).
          </p>
          <SecretMaskingNote />
          <SecretChecklist workspace={workspace} {...choice} legend="Secrets for this notebook" />
        </>
      )}
    </NotebookPickerButton>
  );
}

'use client';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useRouter } from 'next/navigation';
import { useState } from 'react';
import { useTRPC } from '../../lib/trpc.ts';
import { Dialog } from '../dialog.tsx';
import { TextField } from '../field.tsx';
import { ErrorAlert } from '../status.tsx';
import { useWorkspace } from './workspace-context.tsx';

export function DeleteWorkspace() {
  const { workspace } = useWorkspace();
  const trpc = useTRPC();
  const router = useRouter();
  const queryClient = useQueryClient();
  const [open, setOpen] = useState(false);
  const [typed, setTyped] = useState('');
  const remove = useMutation(
    trpc.workspace.delete.mutationOptions({
      onSuccess: async () => {
        queryClient.removeQueries({ queryKey: trpc.workspace.get.queryKey({ slug: workspace.slug }) });
        await queryClient.invalidateQueries({ queryKey: trpc.workspace.list.queryKey() });
        router.replace('/');
      },
    }),
  );

  return (
    <section className="card card-danger" aria-labelledby="delete-heading">
      <h2 id="delete-heading">Delete workspace</h2>
      <p className="muted">
        Deletes the workspace, its notebooks, invitations and API tokens. This cannot be undone.
      </p>
      <div>
        <button
          type="button"
          className="btn btn-danger"
          onClick={() => {
            setTyped('');
            remove.reset();
            setOpen(true);
          }}
        >
          Delete workspace
        </button>
      </div>
      <Dialog open={open} title="Delete workspace?" onClose={() => setOpen(false)}>
        <form
          className="form"
          onSubmit={(event) => {
            event.preventDefault();
            remove.mutate({ workspaceId: workspace.id, confirm: typed });
          }}
        >
          <p>
            This permanently deletes <strong>{workspace.name}</strong> and everything in it.
          </p>
          <TextField
            label={`Type ${workspace.slug} to confirm`}
            name="confirm"
            autoComplete="off"
            autoFocus
            value={typed}
            onChange={(e) => setTyped(e.target.value)}
          />
          <ErrorAlert error={remove.error} />
          <div className="dialog-actions">
            <button type="button" className="btn" onClick={() => setOpen(false)}>
              Cancel
            </button>
            <button
              type="submit"
              className="btn btn-danger-solid"
              disabled={typed !== workspace.slug || remove.isPending}
            >
              {remove.isPending ? 'Deleting…' : 'Delete this workspace'}
            </button>
          </div>
        </form>
      </Dialog>
    </section>
  );
}

'use client';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useTRPC } from '../../lib/trpc.ts';
import { TextField } from '../field.tsx';
import { ErrorAlert, SuccessAlert } from '../status.tsx';
import { useWorkspace } from './workspace-context.tsx';

export function RenameWorkspace() {
  const { workspace } = useWorkspace();
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [name, setName] = useState(workspace.name);
  const rename = useMutation(
    trpc.workspace.rename.mutationOptions({
      onSuccess: () =>
        Promise.all([
          queryClient.invalidateQueries({ queryKey: trpc.workspace.get.queryKey({ slug: workspace.slug }) }),
          queryClient.invalidateQueries({ queryKey: trpc.workspace.list.queryKey() }),
        ]),
    }),
  );

  return (
    <section className="card" aria-labelledby="rename-heading">
      <h2 id="rename-heading">Workspace name</h2>
      <form
        className="form-row"
        onSubmit={(event) => {
          event.preventDefault();
          rename.mutate({ workspaceId: workspace.id, name: name.trim() });
        }}
      >
        <TextField
          label="Name"
          name="name"
          required
          maxLength={80}
          value={name}
          onChange={(e) => {
            rename.reset();
            setName(e.target.value);
          }}
          hint={
            <>
              The URL stays <code>/w/{workspace.slug}</code>.
            </>
          }
        />
        <button type="submit" className="btn btn-primary" disabled={rename.isPending || !name.trim()}>
          {rename.isPending ? 'Saving…' : 'Rename workspace'}
        </button>
      </form>
      <ErrorAlert error={rename.error} />
      {rename.isSuccess ? <SuccessAlert>Workspace renamed.</SuccessAlert> : null}
    </section>
  );
}

'use client';
import { renameWorkspaceInput } from '@kiln/api/inputs';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useTRPC } from '../../lib/trpc.ts';
import { useZodForm } from '../../lib/zod-form.ts';
import { TextField } from '../field.tsx';
import { ErrorAlert, SuccessAlert } from '../status.tsx';
import { useWorkspace } from './workspace-context.tsx';

export function RenameWorkspace() {
  const { workspace } = useWorkspace();
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const form = useZodForm(renameWorkspaceInput, { defaultValues: { name: workspace.name } });
  const name = form.watch('name') ?? '';
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
        noValidate
        onSubmit={form.handleSubmit((values) => rename.mutate({ workspaceId: workspace.id, ...values }))}
      >
        <TextField
          label="Name"
          required
          maxLength={80}
          error={form.formState.errors.name?.message}
          {...form.register('name', { onChange: () => rename.reset() })}
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

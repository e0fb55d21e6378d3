'use client';
import { createWorkspaceInput } from '@kiln/api/inputs';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useRouter } from 'next/navigation';
import { useTRPC } from '../lib/trpc.ts';
import { useZodForm } from '../lib/zod-form.ts';
import { Dialog } from './dialog.tsx';
import { TextField } from './field.tsx';
import { ErrorAlert } from './status.tsx';

export function NewWorkspaceDialog({ open, onClose }: { open: boolean; onClose(): void }) {
  const trpc = useTRPC();
  const router = useRouter();
  const queryClient = useQueryClient();
  const form = useZodForm(createWorkspaceInput, { defaultValues: { name: '' } });
  const name = form.watch('name') ?? '';
  const create = useMutation(
    trpc.workspace.create.mutationOptions({
      onSuccess: async (workspace) => {
        await queryClient.invalidateQueries({ queryKey: trpc.workspace.list.queryKey() });
        form.reset();
        onClose();
        router.push(`/w/${workspace.slug}`);
      },
    }),
  );

  return (
    <Dialog
      open={open}
      title="New workspace"
      onClose={() => {
        create.reset();
        onClose();
      }}
    >
      <form className="form" noValidate onSubmit={form.handleSubmit((values) => create.mutate(values))}>
        <TextField
          label="Workspace name"
          required
          maxLength={80}
          autoFocus
          hint="Its address is the name plus a random suffix, such as research-lab-k3x9q2; it stays the same if you rename the workspace."
          error={form.formState.errors.name?.message}
          {...form.register('name')}
        />
        <ErrorAlert error={create.error} />
        <div className="dialog-actions">
          <button type="button" className="btn" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="btn btn-primary" disabled={create.isPending || !name.trim()}>
            {create.isPending ? 'Creating…' : 'Create workspace'}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

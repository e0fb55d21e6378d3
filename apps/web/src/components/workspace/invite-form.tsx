'use client';
import { inviteInput } from '@kiln/api/inputs';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useId, useState } from 'react';
import { roleLabel } from '../../lib/roles.ts';
import type { RouterOutputs } from '../../lib/router-types.ts';
import { useTRPC } from '../../lib/trpc.ts';
import { useZodForm } from '../../lib/zod-form.ts';
import { CopyField } from '../copy-field.tsx';
import { TextField } from '../field.tsx';
import { ErrorAlert } from '../status.tsx';

type Invitation = RouterOutputs['invitation']['create'];

const INVITE_ROLES = inviteInput.shape.role.options;

/** Invites someone by email and shows the link to share, since mail may not be configured. */
export function InviteForm({ workspaceId }: { workspaceId: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const roleId = useId();
  const form = useZodForm(inviteInput, { defaultValues: { email: '', role: 'EDITOR' } });
  const [sent, setSent] = useState<(Invitation & { email: string }) | null>(null);

  const invite = useMutation(
    trpc.invitation.create.mutationOptions({
      onSuccess: async (result, input) => {
        setSent({ ...result, email: input.email });
        form.reset({ email: '', role: input.role });
        await queryClient.invalidateQueries({ queryKey: trpc.invitation.list.queryKey({ workspaceId }) });
      },
    }),
  );

  return (
    <section className="card" aria-labelledby="invite-heading">
      <h2 id="invite-heading">Invite people</h2>
      <form
        className="form-row"
        noValidate
        onSubmit={form.handleSubmit((values) => {
          setSent(null);
          invite.mutate({ workspaceId, ...values });
        })}
      >
        <TextField
          label="Email"
          type="email"
          required
          error={form.formState.errors.email?.message}
          {...form.register('email')}
        />
        <div className="field field-narrow">
          <label htmlFor={roleId}>Role</label>
          <select id={roleId} className="select" {...form.register('role')}>
            {INVITE_ROLES.map((r) => (
              <option key={r} value={r}>
                {roleLabel[r]}
              </option>
            ))}
          </select>
        </div>
        <button type="submit" className="btn btn-primary" disabled={invite.isPending}>
          {invite.isPending ? 'Inviting…' : 'Invite'}
        </button>
      </form>
      <ErrorAlert error={invite.error} />
      {sent ? (
        <div className="alert alert-success stack" role="status">
          <p>
            {sent.emailed
              ? `Invitation emailed to ${sent.email}. You can also share this link:`
              : `Invitation created for ${sent.email}. Email is not set up, so share this link with them:`}
          </p>
          <CopyField label="Invitation link" value={sent.url} />
        </div>
      ) : null}
    </section>
  );
}

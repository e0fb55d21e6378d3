'use client';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useId, useState } from 'react';
import { useTRPC } from '../../lib/trpc.ts';
import { ConfirmDialog } from '../confirm-dialog.tsx';
import { ErrorAlert } from '../status.tsx';
import { useWorkspace } from './workspace-context.tsx';

export function TransferOwnership() {
  const { workspace, me } = useWorkspace();
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const selectId = useId();
  const members = useQuery(trpc.member.list.queryOptions({ workspaceId: workspace.id }));
  const candidates = members.data?.filter((m) => m.userId !== me.user.id) ?? [];
  const [userId, setUserId] = useState('');
  const [confirming, setConfirming] = useState(false);
  const target = candidates.find((m) => m.userId === userId);

  const transfer = useMutation(
    trpc.workspace.transferOwnership.mutationOptions({
      onSuccess: async () => {
        setConfirming(false);
        setUserId('');
        await queryClient.invalidateQueries();
      },
    }),
  );

  return (
    <section className="card" aria-labelledby="transfer-heading">
      <h2 id="transfer-heading">Transfer ownership</h2>
      <p className="muted">The new owner gets full control; you become an admin.</p>
      {candidates.length === 0 && members.data ? (
        <p className="muted">Invite someone first: there is no other member to transfer to.</p>
      ) : (
        <form
          className="form-row"
          onSubmit={(event) => {
            event.preventDefault();
            if (target) {
              transfer.reset();
              setConfirming(true);
            }
          }}
        >
          <div className="field">
            <label htmlFor={selectId}>New owner</label>
            <select
              id={selectId}
              className="select"
              value={userId}
              onChange={(e) => setUserId(e.target.value)}
              required
            >
              <option value="">Choose a member…</option>
              {candidates.map((m) => (
                <option key={m.userId} value={m.userId}>
                  {m.name} ({m.email})
                </option>
              ))}
            </select>
          </div>
          <button type="submit" className="btn btn-danger" disabled={!target}>
            Transfer ownership
          </button>
        </form>
      )}
      <ErrorAlert error={members.error} />
      <ConfirmDialog
        open={confirming}
        title="Transfer ownership?"
        confirmLabel="Transfer"
        pending={transfer.isPending}
        error={transfer.error}
        onConfirm={() => target && transfer.mutate({ workspaceId: workspace.id, userId: target.userId })}
        onClose={() => setConfirming(false)}
      >
        <p>
          <strong>{target?.email}</strong> will become the owner of {workspace.name}, and you will become an
          admin.
        </p>
      </ConfirmDialog>
    </section>
  );
}

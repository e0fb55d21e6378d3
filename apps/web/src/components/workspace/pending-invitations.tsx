'use client';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { formatDate } from '../../lib/format.ts';
import { type Role, roleLabel } from '../../lib/roles.ts';
import { useTRPC } from '../../lib/trpc.ts';
import { ErrorAlert, Loading } from '../status.tsx';

export function PendingInvitations({ workspaceId }: { workspaceId: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const invitations = useQuery(trpc.invitation.list.queryOptions({ workspaceId }));
  const revoke = useMutation(
    trpc.invitation.revoke.mutationOptions({
      onSuccess: () =>
        queryClient.invalidateQueries({ queryKey: trpc.invitation.list.queryKey({ workspaceId }) }),
    }),
  );

  return (
    <section className="card" aria-labelledby="pending-heading">
      <h2 id="pending-heading">Pending invitations</h2>
      {invitations.isPending ? <Loading /> : null}
      <ErrorAlert error={invitations.error ?? revoke.error} />
      {invitations.data?.length === 0 ? <p className="muted">No pending invitations.</p> : null}
      {invitations.data && invitations.data.length > 0 ? (
        <table className="table" aria-label="Pending invitations">
          <thead>
            <tr>
              <th scope="col">Email</th>
              <th scope="col">Role</th>
              <th scope="col">Expires</th>
              <th scope="col" className="actions">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {invitations.data.map((invitation) => (
              <tr key={invitation.id}>
                <td>{invitation.email}</td>
                <td>{roleLabel[invitation.role as Role]}</td>
                <td className="muted">{formatDate(invitation.expiresAt)}</td>
                <td className="actions">
                  <button
                    type="button"
                    className="btn btn-small btn-danger"
                    aria-label={`Revoke invitation for ${invitation.email}`}
                    disabled={revoke.isPending}
                    onClick={() => revoke.mutate({ workspaceId, invitationId: invitation.id })}
                  >
                    Revoke
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </section>
  );
}

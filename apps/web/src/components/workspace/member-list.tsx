'use client';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useRouter } from 'next/navigation';
import { useState } from 'react';
import { formatDate } from '../../lib/format.ts';
import { assignableRoles, hasRole, type Role, roleLabel } from '../../lib/roles.ts';
import type { RouterOutputs } from '../../lib/router-types.ts';
import { useTRPC } from '../../lib/trpc.ts';
import { ConfirmDialog } from '../confirm-dialog.tsx';
import { ErrorAlert, Loading } from '../status.tsx';
import { useWorkspace } from './workspace-context.tsx';

type Member = RouterOutputs['member']['list'][number];

export function MemberList() {
  const { workspace, me } = useWorkspace();
  const workspaceId = workspace.id;
  const trpc = useTRPC();
  const router = useRouter();
  const queryClient = useQueryClient();
  const members = useQuery(trpc.member.list.queryOptions({ workspaceId }));
  const [removing, setRemoving] = useState<Member | null>(null);
  const [leaving, setLeaving] = useState(false);
  const actorRole = workspace.role as Role;
  const canManage = hasRole(actorRole, 'ADMIN');

  const refresh = () =>
    Promise.all([
      queryClient.invalidateQueries({ queryKey: trpc.member.list.queryKey({ workspaceId }) }),
      queryClient.invalidateQueries({ queryKey: trpc.workspace.get.queryKey({ slug: workspace.slug }) }),
    ]);
  const updateRole = useMutation(trpc.member.updateRole.mutationOptions({ onSettled: refresh }));
  const remove = useMutation(
    trpc.member.remove.mutationOptions({
      onSuccess: async () => {
        await refresh();
        setRemoving(null);
      },
    }),
  );
  const leave = useMutation(
    trpc.member.leave.mutationOptions({
      onSuccess: async () => {
        await queryClient.invalidateQueries({ queryKey: trpc.workspace.list.queryKey() });
        router.replace('/');
      },
    }),
  );

  // Admins manage everyone except owners; only an owner may touch the owner role.
  const canChange = (member: Member) => canManage && (actorRole === 'OWNER' || member.role !== 'OWNER');

  return (
    <section className="card" aria-labelledby="members-heading">
      <div className="page-title">
        <h2 id="members-heading">Members</h2>
        <button
          type="button"
          className="btn btn-danger"
          onClick={() => {
            leave.reset();
            setLeaving(true);
          }}
        >
          Leave workspace
        </button>
      </div>
      {members.isPending ? <Loading /> : null}
      <ErrorAlert error={members.error ?? updateRole.error} />
      {members.data ? (
        <table className="table" aria-label="Members">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Email</th>
              <th scope="col">Role</th>
              <th scope="col">Joined</th>
              {canManage ? (
                <th scope="col" className="actions">
                  <span className="visually-hidden">Actions</span>
                </th>
              ) : null}
            </tr>
          </thead>
          <tbody>
            {members.data.map((member) => {
              const isMe = member.userId === me.user.id;
              return (
                <tr key={member.userId}>
                  <td>
                    {member.name} {isMe ? <span className="badge">You</span> : null}
                  </td>
                  <td>{member.email}</td>
                  <td>
                    {canChange(member) ? (
                      <select
                        className="select select-inline"
                        aria-label={`Role for ${member.email}`}
                        value={member.role}
                        disabled={updateRole.isPending}
                        onChange={(e) =>
                          updateRole.mutate({
                            workspaceId,
                            userId: member.userId,
                            role: e.target.value as Role,
                          })
                        }
                      >
                        {assignableRoles(actorRole).map((r) => (
                          <option key={r} value={r}>
                            {roleLabel[r]}
                          </option>
                        ))}
                      </select>
                    ) : (
                      roleLabel[member.role as Role]
                    )}
                  </td>
                  <td className="muted">{formatDate(member.joinedAt)}</td>
                  {canManage ? (
                    <td className="actions">
                      {!isMe && canChange(member) ? (
                        <button
                          type="button"
                          className="btn btn-small btn-danger"
                          aria-label={`Remove ${member.email}`}
                          onClick={() => {
                            remove.reset();
                            setRemoving(member);
                          }}
                        >
                          Remove
                        </button>
                      ) : null}
                    </td>
                  ) : null}
                </tr>
              );
            })}
          </tbody>
        </table>
      ) : null}

      <ConfirmDialog
        open={removing !== null}
        title="Remove member?"
        confirmLabel="Remove member"
        pending={remove.isPending}
        error={remove.error}
        onConfirm={() => removing && remove.mutate({ workspaceId, userId: removing.userId })}
        onClose={() => setRemoving(null)}
      >
        <p>
          <strong>{removing?.email}</strong> will lose access to {workspace.name}.
        </p>
        <p className="muted">
          Files they wrote to the shared <code>/workspace</code> volume stay after they go. Kiln does not run
          shell profiles or Python startup files from <code>/workspace</code>, but review the scripts,{' '}
          <code>.py</code> modules and notebooks they changed before you run them.
        </p>
      </ConfirmDialog>
      <ConfirmDialog
        open={leaving}
        title="Leave workspace?"
        confirmLabel="Leave workspace"
        pending={leave.isPending}
        error={leave.error}
        onConfirm={() => leave.mutate({ workspaceId })}
        onClose={() => setLeaving(false)}
      >
        <p>You will lose access to {workspace.name} until someone invites you again.</p>
      </ConfirmDialog>
    </section>
  );
}

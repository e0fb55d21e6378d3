'use client';
import { InviteForm } from '../../../../components/workspace/invite-form.tsx';
import { MemberList } from '../../../../components/workspace/member-list.tsx';
import { PendingInvitations } from '../../../../components/workspace/pending-invitations.tsx';
import { useWorkspace } from '../../../../components/workspace/workspace-context.tsx';
import { hasRole } from '../../../../lib/roles.ts';

export default function MembersPage() {
  const { workspace } = useWorkspace();
  const canManage = hasRole(workspace.role, 'ADMIN');
  return (
    <>
      <div className="page-title">
        <h1>Members</h1>
      </div>
      {canManage ? <InviteForm workspaceId={workspace.id} /> : null}
      <MemberList />
      {canManage ? <PendingInvitations workspaceId={workspace.id} /> : null}
    </>
  );
}

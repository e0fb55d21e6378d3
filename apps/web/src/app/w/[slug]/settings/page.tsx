'use client';
import { ApiTokens } from '../../../../components/workspace/api-tokens.tsx';
import { DeleteWorkspace } from '../../../../components/workspace/delete-workspace.tsx';
import { RenameWorkspace } from '../../../../components/workspace/rename-workspace.tsx';
import { TransferOwnership } from '../../../../components/workspace/transfer-ownership.tsx';
import { useWorkspace } from '../../../../components/workspace/workspace-context.tsx';
import { hasRole } from '../../../../lib/roles.ts';

export default function SettingsPage() {
  const { workspace } = useWorkspace();
  const isOwner = workspace.role === 'OWNER';
  return (
    <>
      <div className="page-title">
        <h1>Settings</h1>
      </div>
      {hasRole(workspace.role, 'ADMIN') ? <RenameWorkspace /> : null}
      <ApiTokens />
      {isOwner ? <TransferOwnership /> : null}
      {isOwner ? <DeleteWorkspace /> : null}
    </>
  );
}

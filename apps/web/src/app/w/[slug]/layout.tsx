import { TRPCError } from '@trpc/server';
import Link from 'next/link';
import { redirect } from 'next/navigation';
import type { ReactNode } from 'react';
import { WorkspaceShell } from '../../../components/ide/workspace-shell.tsx';
import { pageCaller } from '../../../server/page-caller.ts';

/**
 * Every workspace page: the signed-in user and the workspace are read on the server, so the shell
 * and the page render in the first response instead of after a chain of browser requests.
 */
export default async function WorkspaceLayout({
  children,
  params,
}: {
  children: ReactNode;
  params: Promise<{ slug: string }>;
}) {
  const { slug } = await params;
  const caller = await pageCaller();
  const me = await caller.auth.me();
  if (!me) redirect(`/sign-in?next=${encodeURIComponent(`/w/${slug}`)}`);
  const workspace = await caller.workspace.get({ slug }).catch((error: unknown) => {
    if (error instanceof TRPCError && (error.code === 'NOT_FOUND' || error.code === 'FORBIDDEN')) return null;
    throw error;
  });
  if (!workspace) {
    return (
      <main className="main">
        <div className="empty stack">
          <h1>Workspace not found</h1>
          <p>It does not exist, or you are not a member of it.</p>
          <p>
            <Link href="/">Go to your workspaces</Link>
          </p>
        </div>
      </main>
    );
  }
  return (
    <WorkspaceShell me={me} workspace={workspace}>
      {children}
    </WorkspaceShell>
  );
}

'use client';
import { useQuery } from '@tanstack/react-query';
import Link from 'next/link';
import { useParams } from 'next/navigation';
import type { ReactNode } from 'react';
import { AppHeader } from '../../../components/app-header.tsx';
import { type Me, RequireAuth } from '../../../components/require-auth.tsx';
import { ErrorAlert, Loading } from '../../../components/status.tsx';
import { WorkspaceContextProvider } from '../../../components/workspace/workspace-context.tsx';
import { errorCode } from '../../../lib/errors.ts';
import { useTRPC } from '../../../lib/trpc.ts';

function WorkspaceShell({ me, children }: { me: Me; children: ReactNode }) {
  const { slug } = useParams<{ slug: string }>();
  const trpc = useTRPC();
  const workspace = useQuery(trpc.workspace.get.queryOptions({ slug }));

  if (workspace.isError) {
    const notFound = errorCode(workspace.error) === 'NOT_FOUND';
    return (
      <>
        <AppHeader me={me} />
        <main className="main">
          {notFound ? (
            <div className="empty stack">
              <h1>Workspace not found</h1>
              <p>It does not exist, or you are not a member of it.</p>
              <p>
                <Link href="/">Go to your workspaces</Link>
              </p>
            </div>
          ) : (
            <ErrorAlert error={workspace.error} />
          )}
        </main>
      </>
    );
  }
  if (!workspace.data) {
    return (
      <>
        <AppHeader me={me} />
        <main className="main">
          <Loading />
        </main>
      </>
    );
  }
  return (
    <WorkspaceContextProvider value={{ workspace: workspace.data, me }}>
      <AppHeader me={me} workspace={workspace.data} />
      <main className="main">{children}</main>
    </WorkspaceContextProvider>
  );
}

export default function WorkspaceLayout({ children }: { children: ReactNode }) {
  return <RequireAuth>{(me) => <WorkspaceShell me={me}>{children}</WorkspaceShell>}</RequireAuth>;
}

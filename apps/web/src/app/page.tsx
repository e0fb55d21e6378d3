'use client';
import { useQuery } from '@tanstack/react-query';
import { useRouter } from 'next/navigation';
import { useEffect, useState } from 'react';
import { NewWorkspaceDialog } from '../components/new-workspace-dialog.tsx';
import { RequireAuth } from '../components/require-auth.tsx';
import { ErrorAlert, Loading } from '../components/status.tsx';
import { useTRPC } from '../lib/trpc.ts';

function FirstWorkspace() {
  const trpc = useTRPC();
  const router = useRouter();
  const workspaces = useQuery(trpc.workspace.list.queryOptions());
  const [creating, setCreating] = useState(false);
  const first = workspaces.data?.[0];

  useEffect(() => {
    if (first) router.replace(`/w/${first.slug}`);
  }, [first, router]);

  if (workspaces.isError) return <ErrorAlert error={workspaces.error} />;
  if (workspaces.data && !first) {
    return (
      <div className="empty stack">
        <p>You are not a member of any workspace yet.</p>
        <div>
          <button type="button" className="btn btn-primary" onClick={() => setCreating(true)}>
            New workspace
          </button>
        </div>
        <NewWorkspaceDialog open={creating} onClose={() => setCreating(false)} />
      </div>
    );
  }
  return <Loading />;
}

export default function HomePage() {
  return (
    <RequireAuth>
      {() => (
        <main className="main">
          <FirstWorkspace />
        </main>
      )}
    </RequireAuth>
  );
}

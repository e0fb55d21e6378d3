'use client';
import { useQuery } from '@tanstack/react-query';
import Link from 'next/link';
import { useTRPC } from '../../lib/trpc.ts';
import { useWorkspace } from '../workspace/workspace-context.tsx';
import { NotebookPage } from './notebook-page.tsx';
import type { NotebookSnapshot } from './notebook-snapshot.ts';

/** The notebook page inside the workspace shell; its name follows renames made elsewhere. */
export function NotebookRoute({
  notebook,
  snapshot,
}: {
  notebook: { id: string; name: string } | null;
  snapshot: NotebookSnapshot | null;
}) {
  const { workspace, me } = useWorkspace();
  const trpc = useTRPC();
  const list = useQuery(trpc.notebook.list.queryOptions({ workspaceId: workspace.id }));
  if (!notebook) {
    return (
      <div className="empty stack">
        <h1>Notebook not found</h1>
        <p>
          <Link href={`/w/${workspace.slug}`}>Back to notebooks</Link>
        </p>
      </div>
    );
  }
  const name = list.data?.find((n) => n.id === notebook.id)?.name ?? notebook.name;
  return (
    <NotebookPage workspace={workspace} me={me} notebook={{ id: notebook.id, name }} snapshot={snapshot} />
  );
}

'use client';
import { useQuery } from '@tanstack/react-query';
import Link from 'next/link';
import { useParams } from 'next/navigation';
import { NotebookPage } from '../../../../../components/notebook/notebook-page.tsx';
import { ErrorAlert, Loading } from '../../../../../components/status.tsx';
import { useWorkspace } from '../../../../../components/workspace/workspace-context.tsx';
import { useTRPC } from '../../../../../lib/trpc.ts';

export default function NotebookRoute() {
  const { notebookId } = useParams<{ notebookId: string }>();
  const { workspace, me } = useWorkspace();
  const trpc = useTRPC();
  const notebooks = useQuery(trpc.notebook.list.queryOptions({ workspaceId: workspace.id }));
  const notebook = notebooks.data?.find((n) => n.id === notebookId);

  if (notebooks.isPending) return <Loading />;
  if (notebooks.isError) return <ErrorAlert error={notebooks.error} />;
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
  return <NotebookPage workspace={workspace} me={me} notebook={notebook} />;
}

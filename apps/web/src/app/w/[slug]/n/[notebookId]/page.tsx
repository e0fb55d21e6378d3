'use client';
import { useQuery } from '@tanstack/react-query';
import Link from 'next/link';
import { useParams } from 'next/navigation';
import { ErrorAlert, Loading } from '../../../../../components/status.tsx';
import { useWorkspace } from '../../../../../components/workspace/workspace-context.tsx';
import { useTRPC } from '../../../../../lib/trpc.ts';

/** Placeholder until the notebook editor lands: shows which notebook this is. */
export default function NotebookPage() {
  const { notebookId } = useParams<{ notebookId: string }>();
  const { workspace } = useWorkspace();
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
  return (
    <>
      <div className="page-title">
        <h1>{notebook.name}</h1>
        <Link className="btn" href={`/w/${workspace.slug}`}>
          Back to notebooks
        </Link>
      </div>
      <div className="empty">The notebook editor is coming soon.</div>
    </>
  );
}

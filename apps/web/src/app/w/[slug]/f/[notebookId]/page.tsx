import { TRPCError } from '@trpc/server';
import { redirect } from 'next/navigation';
import { FunctionRoute } from '../../../../../components/function/function-route.tsx';
import { pageCaller } from '../../../../../server/page-caller.ts';

const isMissing = (error: unknown) =>
  error instanceof TRPCError && (error.code === 'NOT_FOUND' || error.code === 'BAD_REQUEST');

/** A function file (a notebook's id opens the notebook page instead). */
export default async function FunctionFilePageRoute({
  params,
}: {
  params: Promise<{ slug: string; notebookId: string }>;
}) {
  const { slug, notebookId } = await params;
  const caller = await pageCaller();
  const workspace = await caller.workspace.get({ slug });
  const file = await caller.notebook
    .get({ workspaceId: workspace.id, notebookId })
    .catch((error: unknown) => {
      if (isMissing(error)) return null;
      throw error;
    });
  if (file && file.kind !== 'function') redirect(`/w/${slug}/n/${notebookId}`);
  return <FunctionRoute file={file ? { id: file.id, name: file.name } : null} />;
}

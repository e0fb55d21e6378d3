import { TRPCError } from '@trpc/server';
import { redirect } from 'next/navigation';
import { NotebookRoute } from '../../../../../components/notebook/notebook-route.tsx';
import type { NotebookSnapshot } from '../../../../../components/notebook/notebook-snapshot.ts';
import { prerenderRichText } from '../../../../../lib/notebook/prerender-rich-text.ts';
import { cellsWithinBudget, withShortStreams } from '../../../../../lib/notebook/snapshot-budget.ts';
import { pageCaller } from '../../../../../server/page-caller.ts';

/** Enough cells to fill a tall screen; the rest arrive with the live document. */
const SNAPSHOT_CELLS = 30;
/** ...but no more than this much cell JSON, which the page carries twice (HTML and hydration props):
 * with long logs cut (`withShortStreams`), a few screens of cells. */
const SNAPSHOT_BYTES = 24 * 1024;

const isMissing = (error: unknown) =>
  error instanceof TRPCError && (error.code === 'NOT_FOUND' || error.code === 'BAD_REQUEST');

/**
 * A notebook: its first cells are read from the live document on the server and rendered in the
 * first response (highlighted code, outputs, markdown and TeX), then the page connects and takes over live.
 */
export default async function NotebookPageRoute({
  params,
}: {
  params: Promise<{ slug: string; notebookId: string }>;
}) {
  const { slug, notebookId } = await params;
  const caller = await pageCaller();
  const workspace = await caller.workspace.get({ slug });
  // The snapshot checks access itself, so it is read alongside the notebook rather than after it.
  const [notebook, snapshot] = await Promise.all([
    caller.notebook.get({ workspaceId: workspace.id, notebookId }).catch((error: unknown) => {
      if (isMissing(error)) return null;
      throw error;
    }),
    // Without the live-document service (a bare `next start`), the page simply loads over the socket.
    caller.notebook
      .snapshot({ workspaceId: workspace.id, notebookId, cells: SNAPSHOT_CELLS })
      .then((read): NotebookSnapshot => {
        const cells = cellsWithinBudget(read.cells.map(withShortStreams), SNAPSHOT_BYTES);
        return { ...read, cells, richText: prerenderRichText(cells) };
      })
      .catch(() => null),
  ]);
  if (!notebook) return <NotebookRoute notebook={null} snapshot={null} />;
  if (notebook.kind === 'function') redirect(`/w/${slug}/f/${notebookId}`);
  return <NotebookRoute notebook={{ id: notebook.id, name: notebook.name }} snapshot={snapshot} />;
}

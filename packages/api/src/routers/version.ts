import { getNotebookVersion, listNotebookVersions, saveNotebookVersion } from '@kiln/accounts';
import { yDocToIpynb } from '@kiln/notebook/ipynb';
import { z } from 'zod';
import { id, text } from '../inputs.ts';
import { docFromSnapshot, replaceNotebookContent, snapshotOf } from '../notebook-content.ts';
import { requireDocuments, withDocument } from '../services.ts';
import { notebookProcedure, router } from '../trpc.ts';

const versionInput = z.object({ versionId: id('Version') });

/** Named versions of a notebook: snapshots of its live document that can be previewed and restored. */
export const versionRouter = router({
  save: notebookProcedure('notebook.edit')
    .input(z.object({ name: text('Version name', 100) }))
    .mutation(async ({ ctx, input }) => {
      const documents = requireDocuments(ctx.options);
      const snapshot = await withDocument(documents, ctx.notebook.id, (connection) =>
        snapshotOf(connection.document),
      );
      return saveNotebookVersion(ctx.db, {
        workspaceId: ctx.member.workspaceId,
        notebookId: ctx.notebook.id,
        name: input.name,
        snapshot,
        createdById: ctx.user.id,
      });
    }),

  list: notebookProcedure('workspace.read').query(({ ctx }) =>
    listNotebookVersions(ctx.db, ctx.member.workspaceId, ctx.notebook.id),
  ),

  /** The version's content as nbformat JSON, for a preview. */
  get: notebookProcedure('workspace.read')
    .input(versionInput)
    .query(async ({ ctx, input }) => {
      const { snapshot, ...version } = await getNotebookVersion(ctx.db, {
        workspaceId: ctx.member.workspaceId,
        notebookId: ctx.notebook.id,
        versionId: input.versionId,
      });
      return { ...version, notebook: yDocToIpynb(docFromSnapshot(snapshot)) };
    }),

  /**
   * Rewrites the live document to the version's content in one transaction, so collaborators see
   * the restore as an edit (and a version saved just before it brings the content back).
   */
  restore: notebookProcedure('notebook.edit')
    .input(versionInput)
    .mutation(async ({ ctx, input }) => {
      const documents = requireDocuments(ctx.options);
      const version = await getNotebookVersion(ctx.db, {
        workspaceId: ctx.member.workspaceId,
        notebookId: ctx.notebook.id,
        versionId: input.versionId,
      });
      const source = docFromSnapshot(version.snapshot);
      await withDocument(documents, ctx.notebook.id, (connection) =>
        connection.transact((doc) => replaceNotebookContent(doc, source)),
      );
      return { ok: true as const };
    }),
});

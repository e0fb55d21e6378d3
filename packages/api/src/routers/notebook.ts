import { createNotebook, deleteNotebook, listNotebooks, renameNotebook } from '@kiln/accounts';
import { z } from 'zod';
import { id, text } from '../inputs.ts';
import { router, workspaceProcedure } from '../trpc.ts';

const notebookName = text('Notebook name', 200);

export const notebookRouter = router({
  list: workspaceProcedure('workspace.read').query(({ ctx, input }) =>
    listNotebooks(ctx.db, input.workspaceId),
  ),

  create: workspaceProcedure('notebook.edit')
    .input(z.object({ name: notebookName }))
    .mutation(({ ctx, input }) =>
      createNotebook(ctx.db, { workspaceId: input.workspaceId, name: input.name, createdById: ctx.user.id }),
    ),

  rename: workspaceProcedure('notebook.edit')
    .input(z.object({ notebookId: id('Notebook'), name: notebookName }))
    .mutation(({ ctx, input }) => renameNotebook(ctx.db, input.workspaceId, input.notebookId, input.name)),

  delete: workspaceProcedure('notebook.edit')
    .input(z.object({ notebookId: id('Notebook') }))
    .mutation(async ({ ctx, input }) => {
      await deleteNotebook(ctx.db, input.workspaceId, input.notebookId);
      return { ok: true as const };
    }),
});

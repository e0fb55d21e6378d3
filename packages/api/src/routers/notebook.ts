import {
  can,
  createNotebook,
  deleteNotebook,
  listNotebooks,
  renameNotebook,
  setNotebookResources,
} from '@kiln/accounts';
import { z } from 'zod';
import { id, notebookName, notebookNameInput } from '../inputs.ts';
import { notebookProcedure, router, workspaceProcedure } from '../trpc.ts';
import { notebookFileProcedures } from './notebook-files.ts';
import { normalizeResources, notebookKernelProcedures, resourcesInput } from './notebook-kernel.ts';
import { checkResources, notebookMachineProcedures } from './notebook-machines.ts';

export const notebookRouter = router({
  list: workspaceProcedure('workspace.read').query(({ ctx, input }) =>
    listNotebooks(ctx.db, input.workspaceId),
  ),

  /** One notebook with its kernel resources and what the caller's role allows on it. */
  get: notebookProcedure('workspace.read').query(async ({ ctx }) => {
    const { notebook, member } = ctx;
    const image = notebook.imageId
      ? await ctx.db.workspaceImage.findFirst({
          where: { id: notebook.imageId, workspaceId: member.workspaceId },
          select: { id: true, name: true },
        })
      : null;
    return {
      id: notebook.id,
      name: notebook.name,
      kind: notebook.kind,
      resources: { cpu: notebook.cpu, memoryMiB: notebook.memoryMiB, gpu: notebook.gpu, image },
      createdAt: notebook.createdAt,
      updatedAt: notebook.updatedAt,
      canEdit: can(member.role, 'notebook.edit'),
      canRun: can(member.role, 'notebook.run'),
    };
  }),

  create: workspaceProcedure('notebook.edit')
    .input(notebookNameInput)
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

  /** Resources for the notebook's next kernel start; a running kernel keeps what it started with. */
  setResources: notebookProcedure('notebook.run')
    .input(resourcesInput)
    .mutation(async ({ ctx, input }) => {
      const resources = normalizeResources(input);
      // Refused here, with the limit, the plan and what raises it, rather than when a cell runs.
      await checkResources(ctx, ctx.member.workspaceId, ctx.notebook.id, resources);
      return setNotebookResources(ctx.db, ctx.member.workspaceId, ctx.notebook.id, resources);
    }),

  ...notebookKernelProcedures,
  ...notebookMachineProcedures,
  ...notebookFileProcedures,
});

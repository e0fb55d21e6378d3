import {
  createWorkspace,
  deleteWorkspace,
  getWorkspaceBySlug,
  listWorkspaces,
  renameWorkspace,
  transferOwnership,
} from '@kiln/accounts';
import { DomainError } from '@kiln/core';
import { z } from 'zod';
import { createWorkspaceInput, id, renameWorkspaceInput } from '../inputs.ts';
import {
  authedProcedure,
  router,
  sessionProcedure,
  WORKSPACE_NOT_FOUND,
  workspaceProcedure,
} from '../trpc.ts';

export const workspaceRouter = router({
  list: authedProcedure.query(({ ctx }) =>
    listWorkspaces(ctx.db, ctx.user.id, { onlyWorkspaceId: ctx.apiToken?.workspaceId }),
  ),

  get: authedProcedure
    .input(
      z.object({
        slug: z.string('Address must be text').min(1, 'Address is missing').max(100, 'Address is too long'),
      }),
    )
    .query(async ({ ctx, input }) => {
      const workspace = await getWorkspaceBySlug(ctx.db, ctx.user.id, input.slug);
      if (ctx.apiToken && ctx.apiToken.workspaceId !== workspace.id) {
        throw new DomainError('NOT_FOUND', WORKSPACE_NOT_FOUND);
      }
      return workspace;
    }),

  create: sessionProcedure
    .input(createWorkspaceInput)
    .mutation(({ ctx, input }) => createWorkspace(ctx.db, ctx.user.id, { ...input, ip: ctx.ip })),

  rename: workspaceProcedure('workspace.update')
    .input(renameWorkspaceInput)
    .mutation(({ ctx, input }) =>
      renameWorkspace(ctx.db, { userId: ctx.user.id, ip: ctx.ip }, input.workspaceId, input.name),
    ),

  delete: workspaceProcedure('workspace.delete')
    .input(z.object({ confirm: z.string('Confirmation must be text').max(100, 'Confirmation is too long') }))
    .mutation(async ({ ctx, input }) => {
      // Deleting everything is for a person at a browser, never for a script holding a token.
      if (!ctx.session)
        throw new DomainError(
          'FORBIDDEN',
          'API tokens cannot delete a workspace; sign in to Kiln in a browser.',
        );
      await deleteWorkspace(ctx.db, { userId: ctx.user.id, ip: ctx.ip }, input.workspaceId, input.confirm);
      return { ok: true as const };
    }),

  transferOwnership: workspaceProcedure('workspace.transfer')
    .input(z.object({ userId: id('User') }))
    .mutation(async ({ ctx, input }) => {
      await transferOwnership(
        ctx.db,
        { userId: ctx.user.id, role: ctx.member.role, ip: ctx.ip },
        input.workspaceId,
        input.userId,
      );
      return { ok: true as const };
    }),
});

import { can, createApiToken, listApiTokens, revokeApiToken } from '@kiln/accounts';
import { DomainError } from '@kiln/core';
import { z } from 'zod';
import { id, text } from '../inputs.ts';
import { router, workspaceProcedure } from '../trpc.ts';

export const apiTokenRouter = router({
  list: workspaceProcedure('workspace.read').query(({ ctx, input }) =>
    listApiTokens(ctx.db, { userId: ctx.user.id, workspaceId: input.workspaceId }),
  ),

  create: workspaceProcedure('workspace.read')
    .input(
      z.object({
        name: text('Token name'),
        expiresInDays: z
          .number('Expiry must be a number of days')
          .int('Expiry must be a whole number of days')
          .min(1, 'Expiry must be at least 1 day')
          .max(365, 'Expiry must be at most 365 days')
          .nullish(),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      // A token must not mint further tokens: a leaked one would otherwise outlive its revocation.
      if (!ctx.session)
        throw new DomainError('FORBIDDEN', 'API tokens cannot create tokens; sign in to Kiln in a browser.');
      const created = await createApiToken(ctx.db, {
        userId: ctx.user.id,
        workspaceId: input.workspaceId,
        name: input.name,
        expiresInDays: input.expiresInDays,
        ip: ctx.ip,
      });
      return { id: created.id, token: created.token, prefix: created.prefix, expiresAt: created.expiresAt };
    }),

  revoke: workspaceProcedure('workspace.read')
    .input(z.object({ tokenId: id('Token') }))
    .mutation(async ({ ctx, input }) => {
      await revokeApiToken(
        ctx.db,
        { userId: ctx.user.id, canManageOthers: can(ctx.member.role, 'member.manage'), ip: ctx.ip },
        input.workspaceId,
        input.tokenId,
      );
      return { ok: true as const };
    }),
});

import {
  acceptInvitation,
  createInvitation,
  invitationEmail,
  listPendingInvitations,
  previewInvitation,
  revokeInvitation,
} from '@kiln/accounts';
import { z } from 'zod';
import { id, inviteInput, linkToken } from '../inputs.ts';
import { publicProcedure, router, sessionProcedure, workspaceProcedure } from '../trpc.ts';

export const invitationRouter = router({
  list: workspaceProcedure('member.manage').query(({ ctx, input }) =>
    listPendingInvitations(ctx.db, input.workspaceId),
  ),

  create: workspaceProcedure('member.manage')
    .input(inviteInput)
    .mutation(async ({ ctx, input }) => {
      const invitation = await createInvitation(ctx.db, {
        workspaceId: input.workspaceId,
        invitedById: ctx.user.id,
        email: input.email,
        role: input.role,
        ip: ctx.ip,
      });
      const url = `${ctx.options.appUrl.replace(/\/+$/, '')}/invite/${invitation.token}`;
      let emailed = false;
      if (ctx.options.mailer) {
        try {
          await ctx.options.mailer.send(
            invitationEmail({
              to: input.email,
              workspaceName: invitation.workspaceName,
              inviterName: ctx.user.name,
              role: input.role,
              url,
              expiresAt: invitation.expiresAt,
            }),
          );
          emailed = true;
        } catch (error) {
          // The link is still shown to the inviter, who can pass it on another way.
          console.warn('[kiln/api] invitation email failed', error);
        }
      }
      return { id: invitation.id, url, emailed };
    }),

  revoke: workspaceProcedure('member.manage')
    .input(z.object({ invitationId: id('Invitation') }))
    .mutation(async ({ ctx, input }) => {
      await revokeInvitation(
        ctx.db,
        { userId: ctx.user.id, ip: ctx.ip },
        input.workspaceId,
        input.invitationId,
      );
      return { ok: true as const };
    }),

  preview: publicProcedure
    .input(z.object({ token: linkToken }))
    .query(({ ctx, input }) => previewInvitation(ctx.db, input.token, ctx.user?.email ?? null)),

  accept: sessionProcedure
    .input(z.object({ token: linkToken }))
    .mutation(({ ctx, input }) =>
      acceptInvitation(ctx.db, { userId: ctx.user.id, token: input.token, ip: ctx.ip }),
    ),
});

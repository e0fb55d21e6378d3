import { changePassword, updateUserName } from '@kiln/accounts';
import { z } from 'zod';
import { newPassword, text } from '../inputs.ts';
import { router, sessionProcedure } from '../trpc.ts';

export const accountRouter = router({
  update: sessionProcedure.input(z.object({ name: text('Name') })).mutation(async ({ ctx, input }) => {
    const user = await updateUserName(ctx.db, ctx.user.id, input.name);
    return { user };
  }),

  changePassword: sessionProcedure
    .input(
      z.object({
        // Empty is allowed for GitHub-only accounts, which have no password yet.
        currentPassword: z
          .string('Current password must be text')
          .max(200, 'Password must be at most 200 characters'),
        newPassword,
      }),
    )
    .mutation(async ({ ctx, input }) => {
      await changePassword(
        ctx.db,
        { userId: ctx.user.id, ...input, keepSessionId: ctx.session.id, ip: ctx.ip },
        { passwordHash: ctx.options.passwordHash },
      );
      ctx.options.onSessionsEnded?.({ userId: ctx.user.id });
      return { ok: true as const };
    }),
});

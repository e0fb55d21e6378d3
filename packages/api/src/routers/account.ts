import { changePassword, updateUserName } from '@kiln/accounts';
import { changePasswordInput, updateProfileInput } from '../inputs.ts';
import { router, sessionProcedure } from '../trpc.ts';

export const accountRouter = router({
  update: sessionProcedure.input(updateProfileInput).mutation(async ({ ctx, input }) => {
    const user = await updateUserName(ctx.db, ctx.user.id, input.name);
    return { user };
  }),

  changePassword: sessionProcedure.input(changePasswordInput).mutation(async ({ ctx, input }) => {
    await changePassword(
      ctx.db,
      { userId: ctx.user.id, ...input, keepSessionId: ctx.session.id, ip: ctx.ip },
      { passwordHash: ctx.options.passwordHash },
    );
    ctx.options.onSessionsEnded?.({ userId: ctx.user.id });
    return { ok: true as const };
  }),
});

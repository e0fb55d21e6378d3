import {
  createSession,
  deleteSession,
  deleteUserSessions,
  recordAudit,
  revokeUserApiTokens,
  signInWithPassword,
  signUp,
} from '@kiln/accounts';
import type { Context } from '../context.ts';
import { signInInput, signUpInput } from '../inputs.ts';
import { publicProcedure, router, sessionProcedure } from '../trpc.ts';

async function startSession(ctx: Context, userId: string): Promise<string> {
  if (ctx.session) await ctx.db.session.deleteMany({ where: { id: ctx.session.id } });
  const created = await createSession(ctx.db, {
    userId,
    ip: ctx.ip,
    userAgent: ctx.options.userAgent,
  });
  ctx.options.setSessionCookie(created.token, created.expiresAt);
  return created.csrfToken;
}

export const authRouter = router({
  me: publicProcedure.query(({ ctx }) => {
    if (!ctx.user) return null;
    return {
      user: { id: ctx.user.id, email: ctx.user.email, name: ctx.user.name },
      // API-token callers are exempt from CSRF and have no session token to echo.
      csrfToken: ctx.session?.csrfToken ?? null,
    };
  }),

  config: publicProcedure.query(({ ctx }) => ({ githubEnabled: ctx.options.githubEnabled })),

  signUp: publicProcedure.input(signUpInput).mutation(async ({ ctx, input }) => {
    const result = await signUp(ctx.db, { ...input, ip: ctx.ip }, { passwordHash: ctx.options.passwordHash });
    const csrfToken = await startSession(ctx, result.user.id);
    return { user: result.user, personalWorkspace: result.personalWorkspace, csrfToken };
  }),

  signIn: publicProcedure.input(signInInput).mutation(async ({ ctx, input }) => {
    const user = await signInWithPassword(
      ctx.db,
      { ...input, ip: ctx.ip },
      { passwordHash: ctx.options.passwordHash },
    );
    const csrfToken = await startSession(ctx, user.id);
    return { user, csrfToken };
  }),

  signOut: publicProcedure.mutation(async ({ ctx }) => {
    if (ctx.session && ctx.options.sessionToken) {
      await deleteSession(ctx.db, ctx.options.sessionToken);
      ctx.options.onSessionsEnded?.({ userId: ctx.session.userId });
    }
    ctx.options.clearSessionCookie();
    return { ok: true as const };
  }),

  signOutEverywhere: sessionProcedure.mutation(async ({ ctx }) => {
    const ended = await deleteUserSessions(ctx.db, ctx.user.id);
    const tokens = await revokeUserApiTokens(ctx.db, ctx.user.id);
    ctx.options.onSessionsEnded?.({ userId: ctx.user.id });
    await recordAudit(ctx.db, {
      action: 'user.sign_out_everywhere',
      actorId: ctx.user.id,
      target: ctx.user.email,
      metadata: { sessions: ended, apiTokens: tokens },
      ip: ctx.ip,
    });
    ctx.options.clearSessionCookie();
    return { ok: true as const };
  }),
});

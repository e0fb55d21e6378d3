import {
  acceptInvitation,
  confirmSignUp,
  createSession,
  deleteSession,
  deleteUserSessions,
  recordAudit,
  requestSignUp,
  revokeUserApiTokens,
  signInWithPassword,
  signUp,
} from '@kiln/accounts';
import { DomainError } from '@kiln/core';
import { z } from 'zod';
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

  config: publicProcedure.query(async ({ ctx }) => {
    const mode = ctx.options.signUpMode ?? 'open';
    // 'first': sign-up is by invitation, but nobody has an account yet, so the first one is open.
    const first = mode === 'invite' && (await ctx.db.user.count()) === 0;
    return { githubEnabled: ctx.options.githubEnabled, signUp: first ? ('first' as const) : mode };
  }),

  /**
   * Creates an account and signs in; where sign-up confirms the address first (`verify`), mails a link
   * instead and answers `checkEmail` whether or not the address has an account.
   */
  signUp: publicProcedure.input(signUpInput).mutation(async ({ ctx, input }) => {
    if (ctx.options.signUpMode === 'verify') {
      const mailer = ctx.options.mailer;
      if (!mailer) throw new DomainError('INTERNAL', 'Sign-up by email confirmation needs SMTP configured.');
      await requestSignUp(
        ctx.db,
        {
          email: input.email,
          password: input.password,
          name: input.name,
          ip: ctx.ip,
          invitation: input.invitation,
        },
        { mailer, appUrl: ctx.options.appUrl, passwordHash: ctx.options.passwordHash },
      );
      return { checkEmail: true as const };
    }
    const result = await signUp(
      ctx.db,
      { ...input, ip: ctx.ip },
      { passwordHash: ctx.options.passwordHash, mode: ctx.options.signUpMode },
    );
    // Signed up from an invitation to this address: join its workspace now, with the invited role.
    const joined = input.invitation
      ? await acceptInvitation(ctx.db, { userId: result.user.id, token: input.invitation, ip: ctx.ip }).catch(
          () => null,
        )
      : null;
    const csrfToken = await startSession(ctx, result.user.id);
    return {
      checkEmail: false as const,
      user: result.user,
      personalWorkspace: result.personalWorkspace,
      joined,
      csrfToken,
    };
  }),

  /**
   * Creates the account a sign-up confirmation link stands for, and signs it in; `joined` is the
   * workspace of the invitation the sign-up came from, when there was one.
   */
  confirmSignUp: publicProcedure
    .input(z.object({ token: z.string('The link is incomplete').min(1).max(200) }))
    .mutation(async ({ ctx, input }) => {
      const result = await confirmSignUp(ctx.db, { token: input.token, ip: ctx.ip });
      const csrfToken = await startSession(ctx, result.user.id);
      return {
        user: result.user,
        personalWorkspace: result.personalWorkspace,
        joined: result.joined,
        csrfToken,
      };
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

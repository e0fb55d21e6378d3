import { type Action, can, getMembership, getNotebook, safeEqual } from '@kiln/accounts';
import { DomainError } from '@kiln/core';
import type { Role } from '@kiln/db';
import { initTRPC } from '@trpc/server';
import superjson from 'superjson';
import { z } from 'zod';
import type { Context } from './context.ts';
import { errorFormatter, toTRPCError } from './error-formatter.ts';
import { id } from './inputs.ts';

const t = initTRPC.context<Context>().create({ transformer: superjson, errorFormatter, isDev: false });

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;

export const CSRF_FAILED_MESSAGE = 'CSRF check failed; reload the page';

const mapErrors = t.middleware(async ({ next }) => {
  const result = await next();
  if (!result.ok) throw toTRPCError(result.error);
  return result;
});

/**
 * Every mutation must echo a CSRF token in `x-kiln-csrf`: the session's token when signed in, the
 * `kiln_csrf` cookie when signed out. API-token requests carry no cookies and are exempt.
 */
const csrf = t.middleware(({ ctx, type, next }) => {
  if (type !== 'mutation' || ctx.apiToken) return next();
  if (ctx.apiTokenRejected)
    throw new DomainError('UNAUTHENTICATED', 'This API token is invalid, expired or revoked.');
  const header = ctx.options.csrfHeader;
  const expected = ctx.session ? ctx.session.csrfToken : ctx.options.csrfCookie;
  if (!header || !expected || header.length > 200 || !safeEqual(header, expected)) {
    throw new DomainError('CSRF_FAILED', CSRF_FAILED_MESSAGE);
  }
  return next();
});

/** Anyone, signed in or not. */
export const publicProcedure = t.procedure.use(mapErrors).use(csrf);

/** A signed-in user, through a session cookie or an API token. */
export const authedProcedure = publicProcedure.use(({ ctx, next }) => {
  if (!ctx.user) {
    throw new DomainError(
      'UNAUTHENTICATED',
      ctx.apiTokenRejected ? 'This API token is invalid, expired or revoked.' : 'Sign in to continue.',
    );
  }
  return next({ ctx: { ...ctx, user: ctx.user } });
});

/** A signed-in browser session; account-wide actions are not available to API tokens. */
export const sessionProcedure = authedProcedure.use(({ ctx, next }) => {
  if (!ctx.session) {
    throw new DomainError('FORBIDDEN', 'API tokens cannot do this; sign in to Kiln in a browser.');
  }
  return next({ ctx: { ...ctx, session: ctx.session } });
});

export const WORKSPACE_NOT_FOUND = 'Workspace not found';

/**
 * A member of `input.workspaceId` whose role allows `action`. Non-members get the same NOT_FOUND as
 * a workspace that does not exist; members without the right get FORBIDDEN.
 */
export function workspaceProcedure(action: Action) {
  return authedProcedure
    .input(z.object({ workspaceId: id('Workspace') }))
    .use(async ({ ctx, input, next }) => {
      const tokenScope = ctx.apiToken?.workspaceId;
      const membership =
        tokenScope && tokenScope !== input.workspaceId
          ? null
          : await getMembership(ctx.db, input.workspaceId, ctx.user.id);
      if (!membership) throw new DomainError('NOT_FOUND', WORKSPACE_NOT_FOUND);
      if (!can(membership.role, action)) {
        throw new DomainError(
          'FORBIDDEN',
          `Your role (${membership.role.toLowerCase()}) does not allow this; ask a workspace admin.`,
        );
      }
      const member: { workspaceId: string; role: Role } = {
        workspaceId: input.workspaceId,
        role: membership.role,
      };
      return next({ ctx: { ...ctx, member } });
    });
}

/**
 * A notebook of `input.workspaceId` that the caller's role allows `action` on; a notebook id from
 * another workspace answers NOT_FOUND, as one that does not exist.
 */
export function notebookProcedure(action: Action) {
  return workspaceProcedure(action)
    .input(z.object({ notebookId: id('Notebook') }))
    .use(async ({ ctx, input, next }) => {
      const notebook = await getNotebook(ctx.db, input.workspaceId, input.notebookId);
      return next({ ctx: { ...ctx, notebook } });
    });
}

import { createSession, signInWithGitHub } from '@kiln/accounts';
import { isDomainError } from '@kiln/core';
import { getEnv } from '../../../../../env.ts';
import { OAUTH_STATE_COOKIE } from '../../../../../lib/cookie-names.ts';
import { readCookie, serializeCookie } from '../../../../../lib/cookies.ts';
import { getDb } from '../../../../../server/db.ts';
import { checkOAuthState } from '../../../../../server/oauth-state.ts';
import { requestIp, sessionCookie } from '../../../../../server/request-context.ts';
import { getGitHubAuth } from '../../../../../server/services.ts';

export const dynamic = 'force-dynamic';

function redirect(path: string, cookies: string[]): Response {
  const headers = new Headers({ location: `${getEnv().appUrl}${path}`, 'cache-control': 'no-store' });
  for (const cookie of cookies) headers.append('set-cookie', cookie);
  return new Response(null, { status: 303, headers });
}

/** GitHub sends the browser back here; on success the user gets a session and goes where they started. */
export async function GET(request: Request): Promise<Response> {
  const github = getGitHubAuth();
  if (!github) return new Response('GitHub sign-in is not configured', { status: 404 });
  const secure = getEnv().secureCookies;
  const clearState = serializeCookie(OAUTH_STATE_COOKIE, '', { httpOnly: true, secure, maxAgeSeconds: 0 });
  const params = new URL(request.url).searchParams;
  const code = params.get('code');
  const checked = checkOAuthState(
    readCookie(request.headers.get('cookie'), OAUTH_STATE_COOKIE),
    params.get('state'),
  );
  if (!checked || !code) return redirect('/sign-in?error=github_state', [clearState]);

  try {
    const db = getDb();
    const ip = requestIp(request);
    const profile = await github.validateCallback(code);
    const { user } = await signInWithGitHub(db, profile, { ip, mode: getEnv().signUp });
    const session = await createSession(db, {
      userId: user.id,
      ip,
      userAgent: request.headers.get('user-agent'),
    });
    return redirect(checked.next, [clearState, sessionCookie(session.token, session.expiresAt)]);
  } catch (error) {
    const reason = isDomainError(error) ? error.code : 'INTERNAL';
    if (!isDomainError(error)) console.error('GitHub sign-in failed', error);
    const query =
      reason === 'BAD_REQUEST'
        ? 'github_email'
        : reason === 'CONFLICT'
          ? 'github_conflict'
          : reason === 'FORBIDDEN'
            ? 'github_invite'
            : 'github';
    return redirect(`/sign-in?error=${query}`, [clearState]);
  }
}

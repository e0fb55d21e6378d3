import { getEnv } from '../../../../env.ts';
import { OAUTH_STATE_COOKIE } from '../../../../lib/cookie-names.ts';
import { serializeCookie } from '../../../../lib/cookies.ts';
import { packOAuthState } from '../../../../server/oauth-state.ts';
import { getGitHubAuth } from '../../../../server/services.ts';

export const dynamic = 'force-dynamic';

/** Starts GitHub sign-in: remembers a random state and where to return, then redirects to GitHub. */
export function GET(request: Request): Response {
  const github = getGitHubAuth();
  if (!github) return new Response('GitHub sign-in is not configured', { status: 404 });
  const next = new URL(request.url).searchParams.get('next') ?? '/';
  const { url, state } = github.createAuthorization();
  const headers = new Headers({ location: url.toString(), 'cache-control': 'no-store' });
  headers.append(
    'set-cookie',
    serializeCookie(OAUTH_STATE_COOKIE, packOAuthState(state, next), {
      httpOnly: true,
      secure: getEnv().secureCookies,
      maxAgeSeconds: 600,
    }),
  );
  return new Response(null, { status: 302, headers });
}

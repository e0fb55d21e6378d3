import { randomBytes } from 'node:crypto';
import { type NextRequest, NextResponse } from 'next/server';
import { getEnv } from './env.ts';
import { contentSecurityPolicy } from './lib/content-security-policy.ts';
import { CSRF_COOKIE } from './lib/cookie-names.ts';

/**
 * Gives every browser a random `kiln_csrf` cookie on its first page load (double-submit for
 * signed-out forms), and every page a fresh CSP nonce: on the request, where Next reads it to mark
 * its own scripts, and on the response, where the browser enforces it.
 */
export function proxy(request: NextRequest): NextResponse {
  const nonce = randomBytes(16).toString('base64');
  const policy = contentSecurityPolicy(nonce, { dev: process.env.NODE_ENV === 'development' });
  const requestHeaders = new Headers(request.headers);
  requestHeaders.set('x-nonce', nonce);
  requestHeaders.set('content-security-policy', policy);
  const response = NextResponse.next({ request: { headers: requestHeaders } });
  response.headers.set('content-security-policy', policy);
  if (!request.cookies.get(CSRF_COOKIE)?.value) {
    response.cookies.set(CSRF_COOKIE, randomBytes(24).toString('base64url'), {
      path: '/',
      sameSite: 'lax',
      httpOnly: false,
      secure: getEnv().secureCookies,
    });
  }
  return response;
}

export const config = {
  matcher: ['/((?!api/|_next/static|_next/image|favicon.ico).*)'],
};

import { randomBytes } from 'node:crypto';
import { type NextRequest, NextResponse } from 'next/server';
import { getEnv } from './env.ts';
import { CSRF_COOKIE } from './lib/cookie-names.ts';

/** Gives every browser a random `kiln_csrf` cookie on its first page load (double-submit for signed-out forms). */
export function proxy(request: NextRequest): NextResponse {
  const response = NextResponse.next();
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

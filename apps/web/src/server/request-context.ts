import type { ContextOptions } from '@kiln/api';
import { getEnv } from '../env.ts';
import { CSRF_COOKIE, CSRF_HEADER, SESSION_COOKIE } from '../lib/cookie-names.ts';
import { readCookie, serializeCookie } from '../lib/cookies.ts';
import { CLIENT_IP_HEADER } from './client-ip.ts';
import { getDb } from './db.ts';
import { getNotebookServices } from './notebook-services-slot.ts';
import { getMailer } from './services.ts';
import { getStripeBilling } from './stripe.ts';
import { getVolumeDisks, getVolumes } from './volumes.ts';

/** The `Set-Cookie` value that stores a session token. */
export function sessionCookie(token: string, expiresAt: Date): string {
  return serializeCookie(SESSION_COOKIE, token, {
    httpOnly: true,
    secure: getEnv().secureCookies,
    expires: expiresAt,
  });
}

/** The `Set-Cookie` value that removes the session cookie. */
export function clearedSessionCookie(): string {
  return serializeCookie(SESSION_COOKIE, '', {
    httpOnly: true,
    secure: getEnv().secureCookies,
    maxAgeSeconds: 0,
  });
}

/** The caller's address as the custom server recorded it. */
export function requestIp(request: Request): string {
  return request.headers.get(CLIENT_IP_HEADER) ?? 'unknown';
}

function bearerToken(header: string | null): string | null {
  const match = header?.match(/^Bearer\s+(\S+)$/i);
  return match?.[1] ?? null;
}

/** Everything the API needs from one HTTP request; cookie changes are written to `resHeaders`. */
export function contextOptionsFor(request: Request, resHeaders: Headers): ContextOptions {
  const env = getEnv();
  const cookies = request.headers.get('cookie');
  const notebooks = getNotebookServices();
  return {
    documents: notebooks?.documents,
    execution: notebooks?.execution,
    scheduler: notebooks?.scheduler,
    onAccessChanged: notebooks?.onAccessChanged,
    secrets: notebooks?.secrets,
    onSessionsEnded: notebooks?.onSessionsEnded,
    billing: getStripeBilling(),
    schedules: notebooks?.schedules,
    volumes: getVolumes(),
    volumeDisks: getVolumeDisks(),
    images: notebooks?.images,
    ipynbReader: notebooks?.ipynbReader,
    endpoints: notebooks?.endpoints,
    db: getDb(),
    sessionToken: readCookie(cookies, SESSION_COOKIE),
    apiToken: bearerToken(request.headers.get('authorization')),
    csrfHeader: request.headers.get(CSRF_HEADER),
    csrfCookie: readCookie(cookies, CSRF_COOKIE),
    ip: requestIp(request),
    userAgent: request.headers.get('user-agent'),
    appUrl: env.appUrl,
    mailer: getMailer(),
    githubEnabled: env.github !== null,
    signUpMode: env.signUp,
    setSessionCookie: (token, expiresAt) => resHeaders.append('set-cookie', sessionCookie(token, expiresAt)),
    clearSessionCookie: () => resHeaders.append('set-cookie', clearedSessionCookie()),
  };
}

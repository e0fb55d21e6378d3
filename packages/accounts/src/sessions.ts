import type { Db, SessionModel as Session, UserModel as User } from '@kiln/db';
import { randomToken, sha256 } from './tokens.ts';

/** Name of the httpOnly cookie that carries the session token. */
export const SESSION_COOKIE = 'kiln_session';
/** Name of the readable cookie used for double-submit CSRF while signed out. */
export const CSRF_COOKIE = 'kiln_csrf';
/** Request header that must echo the CSRF token on every mutation. */
export const CSRF_HEADER = 'x-kiln-csrf';

/** Sessions live 30 days after the last time they were used. */
export const SESSION_TTL_MS = 30 * 24 * 60 * 60 * 1000;
/** Sliding renewal is written at most this often, to keep reads from writing on every request. */
const RENEW_AFTER_MS = 60 * 60 * 1000;

export interface NewSession {
  /** The secret for the cookie; only its SHA-256 is stored. */
  token: string;
  expiresAt: Date;
  csrfToken: string;
  session: Session;
}

export interface ResolvedSession {
  session: Session;
  user: Pick<User, 'id' | 'email' | 'name'>;
  /** Set when this request extended the session, so the cookie should be re-sent. */
  renewedExpiresAt: Date | null;
}

/** Starts a session for a user and returns the cookie token (shown only here). */
export async function createSession(
  db: Db,
  input: { userId: string; ip?: string | null; userAgent?: string | null },
  now = new Date(),
): Promise<NewSession> {
  const token = randomToken(32);
  const csrfToken = randomToken(32);
  const expiresAt = new Date(now.getTime() + SESSION_TTL_MS);
  const session = await db.session.create({
    data: {
      tokenHash: sha256(token),
      userId: input.userId,
      csrfToken,
      ip: input.ip?.slice(0, 100) ?? null,
      userAgent: input.userAgent?.slice(0, 500) ?? null,
      createdAt: now,
      lastSeenAt: now,
      expiresAt,
    },
  });
  return { token, expiresAt, csrfToken, session };
}

/** Finds the live session for a cookie token, extending it (sliding expiry); null when unknown or expired. */
export async function resolveSession(
  db: Db,
  token: string,
  now = new Date(),
): Promise<ResolvedSession | null> {
  if (token.length === 0 || token.length > 200) return null;
  const session = await db.session.findUnique({
    where: { tokenHash: sha256(token) },
    include: { user: { select: { id: true, email: true, name: true } } },
  });
  if (!session) return null;
  if (session.expiresAt.getTime() <= now.getTime()) {
    await db.session.deleteMany({ where: { id: session.id } });
    return null;
  }
  const { user, ...row } = session;
  if (now.getTime() - session.lastSeenAt.getTime() < RENEW_AFTER_MS) {
    return { session: row, user, renewedExpiresAt: null };
  }
  const expiresAt = new Date(now.getTime() + SESSION_TTL_MS);
  const renewed = await db.session.update({
    where: { id: session.id },
    data: { lastSeenAt: now, expiresAt },
  });
  return { session: renewed, user, renewedExpiresAt: expiresAt };
}

/** Ends one session by its cookie token. */
export async function deleteSession(db: Db, token: string): Promise<void> {
  await db.session.deleteMany({ where: { tokenHash: sha256(token) } });
}

/** Ends every session of a user, optionally keeping one (the caller's own). */
export async function deleteUserSessions(
  db: Db,
  userId: string,
  options: { exceptSessionId?: string } = {},
): Promise<number> {
  const result = await db.session.deleteMany({
    where: {
      userId,
      ...(options.exceptSessionId ? { id: { not: options.exceptSessionId } } : {}),
    },
  });
  return result.count;
}

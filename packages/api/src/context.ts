import {
  type Mailer,
  type PasswordHashOptions,
  type PublicUser,
  resolveApiToken,
  resolveSession,
  type SignUpMode,
} from '@kiln/accounts';
import type { Db, SessionModel } from '@kiln/db';
import type { NotebookServices } from './services.ts';

/** What the web app hands the API for every request. */
export interface ContextOptions extends NotebookServices {
  db: Db;
  /** Value of the httpOnly `kiln_session` cookie. */
  sessionToken: string | null;
  /** From `Authorization: Bearer kiln_...`. */
  apiToken: string | null;
  /** Request header `x-kiln-csrf`. */
  csrfHeader: string | null;
  /** Cookie `kiln_csrf` (double-submit while signed out). */
  csrfCookie: string | null;
  ip: string;
  userAgent: string | null;
  /** Base URL for links in emails, e.g. http://localhost:3000. */
  appUrl: string;
  mailer: Mailer | null;
  setSessionCookie(token: string, expiresAt: Date): void;
  clearSessionCookie(): void;
  githubEnabled: boolean;
  /** Who may create an account (see SignUpMode); default `open`. */
  signUpMode?: SignUpMode;
  /** Argon2 cost; only tests lower it. Defaults to the strong production parameters. */
  passwordHash?: PasswordHashOptions;
}

export interface Context {
  options: ContextOptions;
  db: Db;
  ip: string;
  user: PublicUser | null;
  /** The browser session, when signed in with the cookie. */
  session: SessionModel | null;
  /** The API token, when the request carried one; it limits the caller to one workspace. */
  apiToken: { tokenId: string; workspaceId: string } | null;
  /** A bearer token was sent but is unknown, revoked or expired. */
  apiTokenRejected: boolean;
}

/** Resolves who is calling: an API token when one is sent, otherwise the session cookie. */
export async function createContext(options: ContextOptions): Promise<Context> {
  const base = { options, db: options.db, ip: options.ip };
  if (options.apiToken) {
    const token = await resolveApiToken(options.db, options.apiToken);
    if (!token) return { ...base, user: null, session: null, apiToken: null, apiTokenRejected: true };
    return {
      ...base,
      user: token.user,
      session: null,
      apiToken: { tokenId: token.tokenId, workspaceId: token.workspaceId },
      apiTokenRejected: false,
    };
  }
  if (options.sessionToken) {
    const resolved = await resolveSession(options.db, options.sessionToken);
    if (resolved) {
      if (resolved.renewedExpiresAt)
        options.setSessionCookie(options.sessionToken, resolved.renewedExpiresAt);
      return {
        ...base,
        user: resolved.user,
        session: resolved.session,
        apiToken: null,
        apiTokenRejected: false,
      };
    }
    options.clearSessionCookie();
  }
  return { ...base, user: null, session: null, apiToken: null, apiTokenRejected: false };
}

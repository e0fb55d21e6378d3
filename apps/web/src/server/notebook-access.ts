import type { IncomingMessage } from 'node:http';
import { getMembership, resolveSession, SESSION_COOKIE } from '@kiln/accounts';
import { DomainError, isUuid } from '@kiln/core';
import type { Db, Role } from '@kiln/db';
import { readCookie } from '../lib/cookies.ts';

/** Who opened a notebook socket, and with which role in the notebook's workspace. */
export interface NotebookAccess {
  userId: string;
  name: string;
  role: Role;
  workspaceId: string;
  notebookId: string;
}

/**
 * Browsers always send Origin on websocket handshakes and do not apply CORS to them, so a page on
 * another site could open our sockets with the user's cookie (cross-site websocket hijacking).
 * Allowed: APP_URL's origin, or the origin of the host the request was sent to (same-origin, so
 * http://127.0.0.1:3000 works when APP_URL says localhost; a DNS-rebound page gets its own Host but
 * never our cookie). Requests without Origin come from non-browser clients, which cannot borrow a
 * user's cookie.
 */
export function checkOrigin(request: IncomingMessage, appUrl: string): void {
  const origin = request.headers.origin;
  if (origin === undefined) return;
  if (origin === new URL(appUrl).origin) return;
  let host: string | null = null;
  try {
    host = new URL(origin).host;
  } catch {
    host = null;
  }
  if (host && host === request.headers.host) return;
  throw new DomainError('FORBIDDEN', 'Cross-site websocket refused');
}

/**
 * Resolves the session cookie of an upgrade request and the user's role in the notebook's
 * workspace. Unknown notebooks and notebooks of other workspaces both answer NOT_FOUND, so a
 * non-member cannot learn that a notebook id exists.
 */
export async function authorizeNotebookSocket(
  db: Db,
  request: IncomingMessage,
  notebookId: string,
  options: { appUrl: string },
): Promise<NotebookAccess> {
  checkOrigin(request, options.appUrl);
  return authorizeNotebook(db, request.headers.cookie, notebookId);
}

/** The signed-in user's access to a notebook, from a `Cookie` header; the same rules as the sockets. */
export async function authorizeNotebook(
  db: Db,
  cookieHeader: string | null | undefined,
  notebookId: string,
): Promise<NotebookAccess> {
  const token = readCookie(cookieHeader, SESSION_COOKIE);
  const session = token ? await resolveSession(db, token) : null;
  if (!session) throw new DomainError('UNAUTHENTICATED', 'Sign in to open this notebook');
  const notFound = new DomainError('NOT_FOUND', 'Notebook not found');
  if (!isUuid(notebookId)) throw notFound;
  const notebook = await db.notebook.findUnique({
    where: { id: notebookId },
    select: { workspaceId: true },
  });
  if (!notebook) throw notFound;
  const membership = await getMembership(db, notebook.workspaceId, session.user.id);
  if (!membership) throw notFound;
  return {
    userId: session.user.id,
    name: session.user.name,
    role: membership.role,
    workspaceId: notebook.workspaceId,
    notebookId,
  };
}

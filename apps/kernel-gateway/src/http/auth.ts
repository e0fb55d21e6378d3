import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { DomainError } from '@kiln/core';
import { isWorkspaceId, verifyWorkspaceToken } from '@kiln/kernel-protocol/client';

/** Workspace an admin token acts for when it names none (what `jupyter server --gateway-url` uses). */
export const DEFAULT_WORKSPACE = '00000000-0000-0000-0000-000000000000';

/** Who is calling: the workspace every kernel, session and terminal lookup is scoped to. */
export interface Caller {
  workspaceId: string;
  admin: boolean;
}

function sameSecret(a: string, b: string): boolean {
  // Hashing first gives equal lengths, so the comparison time says nothing about the token.
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

/** Reads `?token=` or `Authorization: token|Bearer <t>`; nothing found yields an empty string. */
export function tokenOf(request: IncomingMessage, url: URL): string {
  const query = url.searchParams.get('token');
  if (query) return query;
  const header = request.headers.authorization ?? '';
  const match = /^(?:token|bearer)\s+(.+)$/i.exec(header.trim());
  return match?.[1]?.trim() ?? '';
}

/** Authenticates a request against the admin secret or a workspace token; throws 401/403 DomainErrors. */
export function authenticate(request: IncomingMessage, url: URL, secret: string): Caller {
  const token = tokenOf(request, url);
  if (!token) {
    throw new DomainError(
      'UNAUTHENTICATED',
      'Send a token: `Authorization: token <token>` or `?token=<token>`',
    );
  }
  const named = request.headers['x-kiln-workspace'];
  const requested = Array.isArray(named) ? named[0] : named;
  if (requested !== undefined && !isWorkspaceId(requested)) {
    throw new DomainError('BAD_REQUEST', 'X-Kiln-Workspace must be a workspace UUID');
  }
  if (sameSecret(token, secret)) {
    return { workspaceId: requested?.toLowerCase() ?? DEFAULT_WORKSPACE, admin: true };
  }
  const workspaceId = verifyWorkspaceToken(secret, token);
  if (!workspaceId) throw new DomainError('INVALID_CREDENTIALS', 'The token is not valid for this gateway');
  if (requested !== undefined && requested.toLowerCase() !== workspaceId) {
    throw new DomainError('FORBIDDEN', 'A workspace token can only act for its own workspace');
  }
  return { workspaceId, admin: false };
}

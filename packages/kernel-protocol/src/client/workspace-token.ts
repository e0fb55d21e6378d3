import { createHmac, timingSafeEqual } from 'node:crypto';
import { isUuid } from '@kiln/core';

const PREFIX = 'kws_';

/** True for a UUID (the only workspace id shape the gateway accepts). */
export function isWorkspaceId(value: string): boolean {
  return isUuid(value);
}

function signature(secret: string, workspaceId: string): string {
  return createHmac('sha256', secret)
    .update(`kiln-workspace:${workspaceId.toLowerCase()}`)
    .digest('base64url');
}

/** Mints a token that lets its holder act for one workspace only: `kws_<workspaceId>.<hmac>`. */
export function workspaceToken(secret: string, workspaceId: string): string {
  if (!isWorkspaceId(workspaceId))
    throw new Error(`Workspace id must be a UUID, got ${JSON.stringify(workspaceId)}`);
  return `${PREFIX}${workspaceId.toLowerCase()}.${signature(secret, workspaceId)}`;
}

/** The workspace a scoped token was minted for, or null when it is not a valid token for this secret. */
export function verifyWorkspaceToken(secret: string, token: string): string | null {
  if (!token.startsWith(PREFIX)) return null;
  const dot = token.indexOf('.');
  if (dot < 0) return null;
  const workspaceId = token.slice(PREFIX.length, dot);
  if (!isWorkspaceId(workspaceId)) return null;
  const expected = Buffer.from(signature(secret, workspaceId));
  const given = Buffer.from(token.slice(dot + 1));
  return expected.length === given.length && timingSafeEqual(expected, given)
    ? workspaceId.toLowerCase()
    : null;
}

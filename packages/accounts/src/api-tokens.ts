import { DomainError } from '@kiln/core';
import type { Db } from '@kiln/db';
import { recordAudit } from './audit.ts';
import { randomToken, sha256 } from './tokens.ts';

/** Every API token starts with this, so leaked tokens are easy to scan for. */
export const API_TOKEN_PREFIX = 'kiln_';
const DISPLAY_PREFIX_LENGTH = API_TOKEN_PREFIX.length + 6;
/** lastUsedAt is written at most this often per token. */
const LAST_USED_RESOLUTION_MS = 60 * 1000;

export interface ApiTokenListItem {
  id: string;
  name: string;
  prefix: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  expiresAt: Date | null;
}

export interface ResolvedApiToken {
  tokenId: string;
  workspaceId: string;
  user: { id: string; email: string; name: string };
}

/** Days a token lives when its creator does not say; `null` asks explicitly for no expiry. */
export const DEFAULT_API_TOKEN_DAYS = 90;

/**
 * Revokes every live token of a user: with their sessions ended (sign-out-everywhere, a new
 * password) a leaked token must not keep working. Returns how many were revoked.
 */
export async function revokeUserApiTokens(db: Db, userId: string, now = new Date()): Promise<number> {
  const { count } = await db.apiToken.updateMany({
    where: { userId, revokedAt: null },
    data: { revokedAt: now },
  });
  return count;
}

/** Creates a workspace-scoped token for `userId`. The secret is returned here only. */
export async function createApiToken(
  db: Db,
  input: {
    userId: string;
    workspaceId: string;
    name: string;
    expiresInDays?: number | null;
    ip?: string | null;
  },
  now = new Date(),
): Promise<{ id: string; token: string; prefix: string; expiresAt: Date | null }> {
  const token = `${API_TOKEN_PREFIX}${randomToken(32)}`;
  const prefix = token.slice(0, DISPLAY_PREFIX_LENGTH);
  const days = input.expiresInDays === undefined ? DEFAULT_API_TOKEN_DAYS : input.expiresInDays;
  const expiresAt = days ? new Date(now.getTime() + days * 86_400_000) : null;
  const row = await db.apiToken.create({
    data: {
      name: input.name,
      prefix,
      tokenHash: sha256(token),
      userId: input.userId,
      workspaceId: input.workspaceId,
      expiresAt,
      createdAt: now,
    },
  });
  await recordAudit(db, {
    action: 'api_token.created',
    workspaceId: input.workspaceId,
    actorId: input.userId,
    target: `${input.name} (${prefix}…)`,
    metadata: { tokenId: row.id },
    ip: input.ip,
  });
  return { id: row.id, token, prefix, expiresAt };
}

/** The caller's own live tokens in a workspace (never the secrets). */
export async function listApiTokens(
  db: Db,
  input: { userId: string; workspaceId: string },
  now = new Date(),
): Promise<ApiTokenListItem[]> {
  const rows = await db.apiToken.findMany({
    where: {
      userId: input.userId,
      workspaceId: input.workspaceId,
      revokedAt: null,
      OR: [{ expiresAt: null }, { expiresAt: { gt: now } }],
    },
    orderBy: { createdAt: 'desc' },
  });
  return rows.map((row) => ({
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    createdAt: row.createdAt,
    lastUsedAt: row.lastUsedAt,
    expiresAt: row.expiresAt,
  }));
}

/** Revokes a token: one's own, or anyone's in the workspace when `canManageOthers` (admins). */
export async function revokeApiToken(
  db: Db,
  actor: { userId: string; canManageOthers: boolean; ip?: string | null },
  workspaceId: string,
  tokenId: string,
): Promise<void> {
  const result = await db.apiToken.updateMany({
    where: {
      id: tokenId,
      workspaceId,
      revokedAt: null,
      ...(actor.canManageOthers ? {} : { userId: actor.userId }),
    },
    data: { revokedAt: new Date() },
  });
  if (result.count === 0) throw new DomainError('NOT_FOUND', 'API token not found');
  await recordAudit(db, {
    action: 'api_token.revoked',
    workspaceId,
    actorId: actor.userId,
    target: tokenId,
    ip: actor.ip,
  });
}

/** Finds the live token behind a `kiln_…` secret; null when unknown, revoked or expired. */
export async function resolveApiToken(
  db: Db,
  token: string,
  now = new Date(),
): Promise<ResolvedApiToken | null> {
  if (!token.startsWith(API_TOKEN_PREFIX) || token.length > 200) return null;
  const row = await db.apiToken.findUnique({
    where: { tokenHash: sha256(token) },
    include: { user: { select: { id: true, email: true, name: true } } },
  });
  if (!row || row.revokedAt) return null;
  if (row.expiresAt && row.expiresAt.getTime() <= now.getTime()) return null;
  if (!row.lastUsedAt || now.getTime() - row.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS) {
    await db.apiToken.update({ where: { id: row.id }, data: { lastUsedAt: now } });
  }
  return { tokenId: row.id, workspaceId: row.workspaceId, user: row.user };
}

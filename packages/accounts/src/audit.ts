import type { Db, Prisma } from '@kiln/db';

/** Every security-relevant action Kiln records. */
export type AuditAction =
  | 'user.sign_up'
  | 'user.sign_in'
  | 'user.sign_in_failed'
  | 'user.sign_out_everywhere'
  | 'user.password_changed'
  | 'workspace.created'
  | 'workspace.renamed'
  | 'workspace.deleted'
  | 'workspace.ownership_transferred'
  | 'member.role_changed'
  | 'member.removed'
  | 'member.left'
  | 'invitation.created'
  | 'invitation.revoked'
  | 'invitation.accepted'
  | 'api_token.created'
  | 'api_token.revoked'
  | 'secret.created'
  | 'secret.updated'
  | 'secret.deleted'
  | 'secret.used'
  | 'secret.rotated'
  | 'notebook.secrets_changed'
  | 'schedule.created'
  | 'schedule.updated'
  | 'schedule.paused'
  | 'schedule.resumed'
  | 'schedule.deleted'
  | 'endpoint.created'
  | 'endpoint.deleted'
  | 'endpoint.settings_changed'
  | 'endpoint.deployed'
  | 'endpoint.rolled_back'
  | 'endpoint.token_created'
  | 'endpoint.token_revoked'
  | 'volume.created'
  | 'volume.deleted'
  | 'volume.moved'
  | 'volume.abandoned'
  | 'image.created'
  | 'image.updated'
  | 'image.deleted'
  | 'image.rebuilt'
  | 'image.built';

export interface AuditEntry {
  action: AuditAction;
  workspaceId?: string | null;
  actorId?: string | null;
  target?: string | null;
  metadata?: Prisma.InputJsonValue;
  ip?: string | null;
}

type AuditWriter = Pick<Db, 'auditLog'>;

/** Appends one entry to the audit log. Works inside a transaction client too. */
export async function recordAudit(db: AuditWriter, entry: AuditEntry): Promise<void> {
  await db.auditLog.create({
    data: {
      action: entry.action,
      workspaceId: entry.workspaceId ?? null,
      actorId: entry.actorId ?? null,
      target: entry.target?.slice(0, 500) ?? null,
      metadata: entry.metadata,
      ip: entry.ip?.slice(0, 100) ?? null,
    },
  });
}

export interface AuditListItem {
  id: string;
  action: string;
  actor: { name: string; email: string } | null;
  target: string | null;
  createdAt: Date;
}

/** A page of a workspace's audit log, newest first; `cursor` is the last id of the previous page. */
export async function listAudit(
  db: Db,
  workspaceId: string,
  options: { cursor?: string | null; limit?: number } = {},
): Promise<{ items: AuditListItem[]; nextCursor: string | null }> {
  const limit = Math.min(Math.max(options.limit ?? 50, 1), 100);
  let before: { createdAt: Date; id: string } | null = null;
  if (options.cursor) {
    const row = await db.auditLog.findFirst({
      where: { id: options.cursor, workspaceId },
      select: { id: true, createdAt: true },
    });
    if (!row) return { items: [], nextCursor: null };
    before = row;
  }
  const rows = await db.auditLog.findMany({
    where: {
      workspaceId,
      ...(before
        ? {
            OR: [
              { createdAt: { lt: before.createdAt } },
              { createdAt: before.createdAt, id: { lt: before.id } },
            ],
          }
        : {}),
    },
    orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    take: limit + 1,
    include: { actor: { select: { name: true, email: true } } },
  });
  const page = rows.slice(0, limit);
  return {
    items: page.map((row) => ({
      id: row.id,
      action: row.action,
      actor: row.actor,
      target: row.target,
      createdAt: row.createdAt,
    })),
    nextCursor: rows.length > limit ? (page.at(-1)?.id ?? null) : null,
  };
}

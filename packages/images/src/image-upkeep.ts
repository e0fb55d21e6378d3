import { recordAudit } from '@kiln/accounts';
import type { Db, Prisma } from '@kiln/db';

/** Who changes an image, for the audit log. */
export interface ImageActor {
  userId: string | null;
  ip?: string;
}

type Tx = Prisma.TransactionClient;

/** What `auditedChange` takes after the database: the change, and how the audit entry describes it. */
export type AuditedArgs<T> = [
  workspaceId: string,
  actor: ImageActor,
  action: 'image.created' | 'image.updated' | 'image.deleted' | 'image.rebuilt',
  change: (tx: Tx) => Promise<T>,
  describe: (result: T) => { target: string; metadata: Prisma.InputJsonValue },
];

/** Writes an image change and its audit entry in one transaction. */
export function auditedChange<T>(db: Db, ...[workspaceId, actor, action, change, describe]: AuditedArgs<T>) {
  return db.$transaction(async (tx) => {
    const result = await change(tx);
    await recordAudit(tx, { action, workspaceId, actorId: actor.userId, ip: actor.ip, ...describe(result) });
    return result;
  });
}

/**
 * Asks the nodes to delete every build no workspace image names any more: each image keeps its last
 * good build and the build in progress. Builds are content-addressed, so two images (of any workspaces)
 * with the same packages share one; it goes only when neither names it. Never throws: a failed prune
 * is reported to `onError` and the next one takes what it left.
 */
export async function pruneUnnamedBuilds(
  db: Db,
  prune: ((keep: string[]) => Promise<void>) | undefined,
  onError: ((error: unknown) => void) | undefined,
): Promise<void> {
  if (!prune) return;
  try {
    const rows = await db.workspaceImage.findMany({ select: { builtKey: true, buildKey: true } });
    const keep = new Set(rows.flatMap((row) => [row.builtKey, row.buildKey]).filter((key) => key !== null));
    await prune([...keep]);
  } catch (error) {
    onError?.(error);
  }
}

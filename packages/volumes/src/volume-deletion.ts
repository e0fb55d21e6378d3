import type { Db } from '@kiln/db';

/**
 * Deleting a volume works as Modal's `modal volume delete` does: the volume is gone for the workspace at
 * once (its name is free, no notebook or new kernel mounts it), with no waiting on the node that holds
 * its files. What Kiln adds, since a Kiln kernel can still be running with the volume mounted: deleting a
 * volume that live kernels or endpoint replicas mount is refused with their names unless the caller
 * confirms (`evenIfMounted`); then those keep their mount until they stop. The disk itself is erased by
 * `reapVolumes` as soon as its node is online and nothing mounts it (a lost node: when it is back).
 */

/** A live container mounting a volume, named as the workspace knows it. */
export interface VolumeHolder {
  containerId: string;
  kind: 'kernel' | 'endpoint_replica' | 'sandbox';
  state: 'starting' | 'running' | 'hibernated';
  /** "notebook Train", "endpoint api". */
  label: string;
}

/** Live containers (starting, running or hibernated) that mount `volumeId`. */
export async function volumeHolders(db: Pick<Db, '$queryRaw'>, volumeId: string): Promise<VolumeHolder[]> {
  return db.$queryRaw<VolumeHolder[]>`
    SELECT c.id AS "containerId", c.kind::text AS kind, c.state::text AS state,
      CASE c.kind::text
        WHEN 'kernel' THEN 'notebook ' || COALESCE(n.name, c."ownerId")
        WHEN 'endpoint_replica' THEN 'endpoint ' || COALESCE(e.label, c."ownerId")
        ELSE 'sandbox ' || c."ownerId"
      END AS label
    FROM "Container" c
    LEFT JOIN "Notebook" n ON c.kind::text = 'kernel' AND n.id::text = c."ownerId"
    LEFT JOIN "Endpoint" e ON c.kind::text = 'endpoint_replica' AND e.id::text = c."ownerId"
    WHERE ${volumeId}::uuid = ANY(c."volumeIds") AND c.state IN ('starting', 'running', 'hibernated')
    ORDER BY c."requestedAt"`;
}

/** Words for a refusal: `notebook "Train" (running), endpoint "api" (hibernated)`. */
export function describeHolders(holders: readonly VolumeHolder[]): string {
  return holders.map((holder) => `${holder.label} (${holder.state})`).join(', ');
}

export interface VolumeReaperOptions {
  db: Db;
  /**
   * Erases the disk on the node at `nodeUrl` (`volume`: a volume's id, or `workspace` for the /workspace
   * folder); resolves when it is gone (or was never there), throws while a sandbox still mounts it or
   * the node cannot be reached.
   */
  erase(nodeUrl: string, workspaceId: string, volume: string): Promise<void>;
}

/** What one pass did: volumes erased, and those left for later with the reason. */
export interface ReapResult {
  erased: string[];
  waiting: { volumeId: string; reason: string }[];
}

/**
 * Erases the disks of deleted volumes (all pending ones, or only `volumeId`) whose node is online; the
 * others stay pending with the reason, for the next pass. Any number of web processes may run it: an
 * erase is idempotent and the row goes only after it.
 */
export async function reapVolumes(options: VolumeReaperOptions, volumeId?: string): Promise<ReapResult> {
  const { db } = options;
  const pending = await db.volumeReap.findMany({
    where: volumeId ? { volumeId } : {},
    include: { node: { select: { id: true, url: true, state: true } } },
    orderBy: { deletedAt: 'asc' },
  });
  const result: ReapResult = { erased: [], waiting: [] };
  for (const row of pending) {
    // A moved disk's old copy on the node it has since moved back to is the disk itself: never erased.
    if (row.movedTo !== null && (await currentHome(db, row)) === row.nodeId) {
      await db.volumeReap.deleteMany({ where: { id: row.id } });
      continue;
    }
    // A volume no kernel ever placed (from before volumes had nodes) lived with the first node.
    const node =
      row.node ??
      (await db.node.findFirst({
        where: { state: 'active' },
        orderBy: [{ registeredAt: 'asc' }, { id: 'asc' }],
        select: { id: true, url: true, state: true },
      }));
    let reason: string | null = null;
    if (!node) reason = 'no node is online';
    else if (node.state !== 'active') reason = `node ${node.id}, which holds its files, is offline`;
    else {
      try {
        await options.erase(node.url, row.workspaceId, row.workspaceDisk ? 'workspace' : row.volumeId);
      } catch (error) {
        reason = error instanceof Error ? error.message : String(error);
      }
    }
    if (reason === null) {
      await db.volumeReap.deleteMany({ where: { id: row.id } });
      result.erased.push(row.volumeId);
    } else {
      await db.volumeReap.updateMany({ where: { id: row.id }, data: { lastError: reason } });
      result.waiting.push({ volumeId: row.volumeId, reason });
    }
  }
  return result;
}

async function currentHome(
  db: Db,
  row: { volumeId: string; workspaceId: string; workspaceDisk: boolean },
): Promise<string | null> {
  if (row.workspaceDisk)
    return (await db.workspaceDisk.findUnique({ where: { workspaceId: row.workspaceId } }))?.nodeId ?? null;
  return (await db.volume.findUnique({ where: { id: row.volumeId } }))?.nodeId ?? null;
}

/** A disk still to be erased, as the volumes page shows it. */
export interface PendingErase {
  name: string;
  /** Deleted, or the old copy a move to `movedTo` left behind. */
  movedTo: string | null;
  nodeId: string | null;
  since: Date;
  /** Why it is not erased yet (the node is offline, a kernel still mounts it). */
  waiting: string | null;
}

/** The workspace's disks whose files are still to be erased, oldest first. */
export async function pendingErasures(db: Db, workspaceId: string): Promise<PendingErase[]> {
  const rows = await db.volumeReap.findMany({ where: { workspaceId }, orderBy: { deletedAt: 'asc' } });
  return rows.map((row) => ({
    name: row.name,
    movedTo: row.movedTo,
    nodeId: row.nodeId,
    since: row.deletedAt,
    waiting: row.lastError,
  }));
}

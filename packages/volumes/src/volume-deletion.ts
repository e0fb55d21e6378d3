import { isDomainError } from '@kiln/core';
import type { Db } from '@kiln/db';
import type { Scheduler } from '@kiln/scheduler';

/**
 * Deleting a volume works as Modal's `modal volume delete` does: the volume is gone for the workspace at
 * once (its name is free, no notebook or new kernel mounts it), with no waiting on the node that holds
 * its files. What Kiln adds, since a Kiln kernel can still be running with the volume mounted: deleting a
 * volume that live kernels or endpoint replicas mount is refused with their names unless the caller
 * confirms (`evenIfMounted`); then `reapVolumes` stops them (hibernated ones too, whose sandbox would
 * wake onto an erased disk), each told why, and erases the disk once its node is online and no live or
 * hibernated container mounts it any more (a lost node: when it is back).
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
  /**
   * Stops a container that mounts a deleted volume on its node, telling it `reason` (the node's gateway
   * shuts the kernel down; its clients see why); resolves once the node confirms it is gone (or never
   * was there). Without it, the erase waits until such containers stop by themselves.
   */
  stopContainer?(mount: LiveMount, reason: string): Promise<void>;
  /** Records the stop (with the reason) once the node confirmed it; needed with `stopContainer`. */
  scheduler?: Pick<Scheduler, 'stop'>;
}

/** A live or hibernated container mounting a disk, and the node it runs (or sleeps) on. */
export interface LiveMount extends VolumeHolder {
  workspaceId: string;
  nodeId: string | null;
  nodeUrl: string | null;
  nodeState: 'active' | 'lost' | null;
}

/** Why a deleted volume's kernel was stopped, as its notebook shows it. */
export function deletedVolumeReason(name: string): string {
  return `The volume ${name} was deleted, so this kernel, which mounted it, was stopped. Run a cell to start a new kernel without it.`;
}

/**
 * Live containers (hibernated included) that mount the disk a pending erase is for: any of the
 * deleted volume's, or for the old copy of a moved disk only those on that copy's node.
 */
async function liveMounts(
  db: Pick<Db, '$queryRaw'>,
  row: {
    volumeId: string;
    workspaceId: string;
    workspaceDisk: boolean;
    nodeId: string | null;
    movedTo: string | null;
  },
): Promise<LiveMount[]> {
  const onNode = row.movedTo !== null ? row.nodeId : null;
  return db.$queryRaw<LiveMount[]>`
    SELECT c.id AS "containerId", c.kind::text AS kind, c.state::text AS state, c."workspaceId"::text AS "workspaceId",
      c."nodeId" AS "nodeId", nd.url AS "nodeUrl", nd.state::text AS "nodeState",
      CASE c.kind::text
        WHEN 'kernel' THEN 'notebook ' || COALESCE(n.name, c."ownerId")
        WHEN 'endpoint_replica' THEN 'endpoint ' || COALESCE(e.label, c."ownerId")
        ELSE 'sandbox ' || c."ownerId"
      END AS label
    FROM "Container" c
    LEFT JOIN "Node" nd ON nd.id = c."nodeId"
    LEFT JOIN "Notebook" n ON c.kind::text = 'kernel' AND n.id::text = c."ownerId"
    LEFT JOIN "Endpoint" e ON c.kind::text = 'endpoint_replica' AND e.id::text = c."ownerId"
    WHERE c."workspaceId" = ${row.workspaceId}::uuid
      AND (CASE WHEN ${row.workspaceDisk} THEN c."mountsWorkspace" ELSE ${row.volumeId}::uuid = ANY(c."volumeIds") END)
      AND c.state IN ('starting', 'running', 'hibernated')
      AND (${onNode}::text IS NULL OR c."nodeId" = ${onNode}::text)
    ORDER BY c."requestedAt"`;
}

/**
 * Stops the containers that still mount a deleted volume (a moved disk's old copy is never mounted:
 * those wait). Returns why the erase must wait, or null when nothing mounts the disk any more.
 */
async function letGo(
  options: VolumeReaperOptions,
  row: Parameters<typeof liveMounts>[1] & { name: string },
): Promise<string | null> {
  let mounts = await liveMounts(options.db, row);
  if (mounts.length === 0) return null;
  const { stopContainer, scheduler } = options;
  if (row.movedTo === null && stopContainer && scheduler) {
    const reason = deletedVolumeReason(row.name);
    const failures: string[] = [];
    for (const mount of mounts) {
      try {
        await stopContainer(mount, reason);
        await scheduler.stop(mount.containerId, { code: 'stopped', reason }).catch((error: unknown) => {
          // The node recorded the stop first (with the same reason): already final is fine.
          if (!isDomainError(error)) throw error;
        });
      } catch (error) {
        failures.push(`${mount.label}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    mounts = await liveMounts(options.db, row);
    if (mounts.length === 0) return null;
    if (failures.length > 0)
      return `still mounted by ${describeHolders(mounts)}, which could not be stopped (${failures.join('; ')})`;
  }
  return `still mounted by ${describeHolders(mounts)}; erased once ${mounts.length > 1 ? 'they stop' : 'it stops'}`;
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
    // Never erased under a live or hibernated sandbox: those of a deleted volume are stopped first.
    let reason: string | null = await letGo(options, row);
    if (reason === null) {
      if (!node) reason = 'no node is online';
      else if (node.state !== 'active') reason = `node ${node.id}, which holds its files, is offline`;
      else {
        try {
          await options.erase(node.url, row.workspaceId, row.workspaceDisk ? 'workspace' : row.volumeId);
        } catch (error) {
          reason = error instanceof Error ? error.message : String(error);
        }
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

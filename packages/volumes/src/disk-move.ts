import { recordAudit } from '@kiln/accounts';
import { DomainError } from '@kiln/core';
import type { Db } from '@kiln/db';
import {
  claimDiskMove,
  type DiskMoveInProgress,
  diskMoveInProgress,
  settleClaim,
} from './disk-move-claim.ts';
import { describeHolders, type VolumeHolder } from './volume-deletion.ts';
import { type VolumeQuotas, volumeQuotaMiB } from './volume-mounts.ts';
import type { VolumeActor } from './volume-store.ts';

/**
 * Moving a disk (a named volume, or the workspace's /workspace folder) to another node, as an admin
 * does when a node is retired or a workspace should run elsewhere. The order is what keeps the files
 * safe: refused while anything mounts the disk; the copy on the target is erased first, the files are
 * copied node to node and checked (every path, size, mode and SHA-256 against the original, read again
 * after the copy); only then does one transaction switch the record, refusing if a container mounted
 * the disk meanwhile. Until that commit the original stays the disk kernels use, so a copy that breaks
 * half-way changes nothing (its partial copy is erased). The old copy is erased by the reap path: now,
 * or when its node is back. A disk whose node is lost cannot be copied; `abandon` then starts it empty
 * on the target instead, and the lost files are erased if that node ever returns. One move per disk at
 * a time: a second is refused while the first holds the disk's claim (see `disk-move-claim.ts`), and
 * the file browser's writes are refused meanwhile; one that finished during the final check stops the
 * switch.
 */

/** Which disk: a named volume by id, or the workspace's /workspace folder. */
export type DiskRef = { volumeId: string } | { workspace: true };

/** One entry as the nodes' manifest lists it. */
export interface DiskEntry {
  path: string;
  kind: 'file' | 'directory' | 'symlink';
  mode: number;
  size: number;
  target?: string;
  sha256?: string;
  /** Last modification of a file or folder, whole milliseconds; the copy gets the same. */
  mtimeMs?: number;
}

/** Where a disk lives on a node: `volume` is the gateway's name for it (`workspace` or the volume id). */
export interface NodeDisk {
  nodeUrl: string;
  workspaceId: string;
  volume: string;
  /** A named volume's size (its plan's quota); none for /workspace. */
  quotaMiB?: number;
}

/** The nodes' side of a move, over their file APIs. */
export interface DiskTransfer {
  /** Every entry of the disk (with SHA-256 of files when `hash`), and what it cannot copy. */
  manifest(disk: NodeDisk, hash: boolean): Promise<{ entries: DiskEntry[]; skipped: string[] }>;
  /** Copies the entries from one node's disk to the other's, streaming file bytes. */
  copy(
    from: NodeDisk,
    to: NodeDisk,
    entries: readonly DiskEntry[],
    onEntry?: (entry: DiskEntry) => void | Promise<void>,
  ): Promise<void>;
  /** Erases the disk on its node (gone already is fine); throws while mounted or unreachable. */
  erase(disk: NodeDisk): Promise<void>;
}

export interface DiskMoveOptions {
  db: Db;
  transfer: DiskTransfer;
  quotas?: VolumeQuotas;
  /** The move claim's lease and renewal period (defaults 60 s and 20 s). */
  claim?: { leaseMs?: number; renewMs?: number };
}

export interface DiskMoveInput {
  workspaceId: string;
  actor: VolumeActor;
  disk: DiskRef;
  toNodeId: string;
  /**
   * Only for a disk whose node is lost: give its files up and start it empty on `toNodeId`. Must be
   * confirmed with the disk's name (`/workspace` or the volume's name), typed by the admin.
   */
  abandon?: { confirm: string };
  /** Called after each entry is copied (tests interrupt a copy here). */
  onEntry?: (entry: DiskEntry) => void | Promise<void>;
}

export interface DiskMoveResult {
  name: string;
  from: string | null;
  to: string;
  /** Files and bytes copied (0 when abandoned). */
  files: number;
  bytes: number;
  abandoned: boolean;
  /** Entries the copy could not carry (FIFOs, sockets, devices, unprintable names). */
  skipped: string[];
  /** Whether the old copy is erased already; otherwise why not yet (it will be). */
  oldCopyErased: boolean;
  oldCopyWaiting: string | null;
}

interface DiskState {
  name: string;
  label: string;
  volume: string;
  nodeId: string | null;
  quotaMiB?: number;
}

type Reader = Pick<Db, '$queryRaw'>;

/** Live containers (starting, running, hibernated) that mount the disk, named as the workspace knows them. */
export async function diskHolders(db: Reader, workspaceId: string, disk: DiskRef): Promise<VolumeHolder[]> {
  const volumeId = 'volumeId' in disk ? disk.volumeId : null;
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
    WHERE c."workspaceId" = ${workspaceId}::uuid
      AND (CASE WHEN ${volumeId}::uuid IS NULL THEN c."mountsWorkspace" ELSE ${volumeId}::uuid = ANY(c."volumeIds") END)
      AND c.state IN ('starting', 'running', 'hibernated')
    ORDER BY c."requestedAt"`;
}

async function diskState(
  db: Db,
  workspaceId: string,
  disk: DiskRef,
  quotas?: VolumeQuotas,
): Promise<DiskState> {
  const workspace = await db.workspace.findUnique({ where: { id: workspaceId }, select: { plan: true } });
  if (!workspace) throw new DomainError('NOT_FOUND', 'Workspace not found');
  if ('volumeId' in disk) {
    const row = await db.volume.findFirst({ where: { id: disk.volumeId, workspaceId } });
    if (!row) throw new DomainError('NOT_FOUND', 'Volume not found');
    return {
      name: row.name,
      label: `The volume ${row.name}`,
      volume: row.id,
      nodeId: row.nodeId,
      quotaMiB: volumeQuotaMiB(workspace.plan, quotas),
    };
  }
  const row = await db.workspaceDisk.findUnique({ where: { workspaceId } });
  return {
    name: '/workspace',
    label: "This workspace's /workspace folder",
    volume: 'workspace',
    nodeId: row?.nodeId ?? null,
  };
}

function sameFiles(a: readonly DiskEntry[], b: readonly DiskEntry[]): string | null {
  const key = (entry: DiskEntry) =>
    `${entry.kind} ${entry.path} ${entry.mode.toString(8)} ${entry.size} ${entry.target ?? ''} ${entry.sha256 ?? ''} ${entry.mtimeMs ?? ''}`;
  const left = new Set(a.map(key));
  const right = new Set(b.map(key));
  for (const entry of a)
    if (!right.has(key(entry))) return `/${entry.path} differs or is missing on the copy`;
  for (const entry of b)
    if (!left.has(key(entry))) return `/${entry.path} is on the copy but not the original`;
  return null;
}

/** Moves a disk to node `toNodeId` (see the module comment); returns what was copied. */
export async function moveDisk(options: DiskMoveOptions, input: DiskMoveInput): Promise<DiskMoveResult> {
  const { db } = options;
  const { workspaceId, disk } = input;
  const state = await diskState(db, workspaceId, disk, options.quotas);
  const target = await db.node.findUnique({
    where: { id: input.toNodeId },
    select: { id: true, url: true, state: true },
  });
  if (!target) throw new DomainError('NOT_FOUND', `No node ${input.toNodeId}`);
  if (target.state !== 'active')
    throw new DomainError('CONFLICT', `Node ${target.id} is offline; choose a node that is online`);
  if (state.nodeId === target.id)
    throw new DomainError('CONFLICT', `${state.label} already lives on node ${target.id}`);
  const holders = await diskHolders(db, workspaceId, disk);
  if (holders.length > 0)
    throw new DomainError(
      'CONFLICT',
      `${state.label} is mounted by ${describeHolders(holders)}. Stop ${holders.length > 1 ? 'them' : 'it'} first, then move it.`,
      { reason: 'volume_in_use', holders: holders.map((holder) => holder.label) },
    );
  const source = state.nodeId
    ? await db.node.findUnique({ where: { id: state.nodeId }, select: { id: true, url: true, state: true } })
    : null;
  const sourceOnline = source?.state === 'active';
  if (input.abandon && sourceOnline)
    throw new DomainError(
      'CONFLICT',
      `Node ${source?.id}, which holds ${state.name}, is online: move the files instead of abandoning them`,
    );
  if (input.abandon && input.abandon.confirm !== state.name)
    throw new DomainError(
      'VALIDATION_FAILED',
      `Type ${state.name} to confirm that its files on node ${state.nodeId ?? '(none)'} are given up`,
    );
  if (!input.abandon && source && !sourceOnline)
    throw new DomainError(
      'CONFLICT',
      `Node ${source.id}, which holds ${state.name}, is offline, so its files cannot be copied. Wait until it is back, or abandon the files and start ${state.name} empty on node ${target.id}.`,
      { reason: 'volume_node_lost', nodeId: source.id },
    );
  const claim = await claimDiskMove(
    db,
    { workspaceId, volume: state.volume },
    { label: state.label, toNodeId: target.id, startedById: input.actor.userId, ...options.claim },
  );
  try {
    return await moveClaimed(options, input, state, target, source, claim);
  } finally {
    await claim.release();
  }
}

async function now(db: Reader): Promise<Date> {
  const [clock] = await db.$queryRaw<{ now: Date }[]>`SELECT clock_timestamp() AS now`;
  return clock?.now ?? new Date();
}

type NodeRow = { id: string; url: string; state: 'active' | 'lost' };

async function moveClaimed(
  options: DiskMoveOptions,
  input: DiskMoveInput,
  state: DiskState,
  target: NodeRow,
  source: NodeRow | null,
  claim: Awaited<ReturnType<typeof claimDiskMove>>,
): Promise<DiskMoveResult> {
  const { db, transfer } = options;
  const { workspaceId, disk } = input;
  const sourceOnline = source?.state === 'active';
  const since = await now(db);
  let verifiedFrom = since;
  const at = (nodeUrl: string): NodeDisk => ({
    nodeUrl,
    workspaceId,
    volume: state.volume,
    quotaMiB: state.quotaMiB,
  });
  const destination = at(target.url);
  // A copy left there earlier (a failed move, or the disk's old home) must not mix into this one, nor be
  // erased later by a pending reap once it is the disk again.
  await db.volumeReap.deleteMany({ where: { volumeId: reapId(workspaceId, disk), nodeId: target.id } });
  await transfer.erase(destination);
  let files = 0;
  let bytes = 0;
  let skipped: string[] = [];
  if (source && sourceOnline) {
    const from = at(source.url);
    try {
      const original = await transfer.manifest(from, false);
      skipped = original.skipped;
      await transfer.copy(from, destination, original.entries, input.onEntry);
      if (claim.lost) throw new DomainError('CONFLICT', `${state.label}: ${claim.lost}; nothing was moved`);
      // Read both again, hashed: what the copy holds must be what the original holds now. A file-browser
      // write that finishes from here on stops the switch (it marks the claim).
      verifiedFrom = await now(db);
      const [after, copy] = await Promise.all([
        transfer.manifest(from, true),
        transfer.manifest(destination, true),
      ]);
      const difference = sameFiles(after.entries, copy.entries);
      if (difference)
        throw new DomainError(
          'CONFLICT',
          `The copy does not match the original (${difference}); nothing was moved`,
        );
      for (const entry of after.entries)
        if (entry.kind === 'file') {
          files += 1;
          bytes += entry.size;
        }
    } catch (error) {
      await transfer.erase(destination).catch(() => undefined);
      throw error;
    }
  }
  try {
    await db.$transaction(async (tx) => {
      // Placements bind and read disks under the workspace's lock: none starts mounting it meanwhile.
      await tx.$queryRaw`SELECT id FROM "Workspace" WHERE id = ${workspaceId}::uuid FOR NO KEY UPDATE`;
      const now = await diskState(tx as unknown as Db, workspaceId, disk, options.quotas);
      if (now.nodeId !== state.nodeId)
        throw new DomainError('CONFLICT', `${state.label} moved meanwhile; nothing was changed`);
      const unsettled = await settleClaim(tx, claim, verifiedFrom);
      if (unsettled)
        throw new DomainError('CONFLICT', `${state.label} was not moved: ${unsettled}`, {
          reason: 'disk_move_interrupted',
        });
      const used = await usedSince(tx, workspaceId, disk, since);
      if (used > 0)
        throw new DomainError(
          'CONFLICT',
          `A kernel mounted ${state.name} while it was being copied; nothing was moved. Stop it and try again.`,
          { reason: 'volume_in_use' },
        );
      if ('volumeId' in disk)
        await tx.volume.update({ where: { id: disk.volumeId }, data: { nodeId: target.id } });
      else
        await tx.workspaceDisk.upsert({
          where: { workspaceId },
          create: { workspaceId, nodeId: target.id },
          update: { nodeId: target.id },
        });
      if (state.nodeId)
        await tx.volumeReap.create({
          data: {
            volumeId: reapId(workspaceId, disk),
            workspaceDisk: !('volumeId' in disk),
            workspaceId,
            name: state.name,
            nodeId: state.nodeId,
            movedTo: target.id,
          },
        });
      await recordAudit(tx, {
        action: input.abandon ? 'volume.abandoned' : 'volume.moved',
        workspaceId,
        actorId: input.actor.userId,
        target: state.name,
        metadata: {
          disk: state.volume,
          from: state.nodeId,
          to: target.id,
          files,
          bytes,
          ...(skipped.length ? { skipped: skipped.slice(0, 50) } : {}),
        },
        ip: input.actor.ip,
      });
    });
  } catch (error) {
    // Unless the disk lives there now (another move to the same node won), the copy is erased.
    const now = await diskState(db, workspaceId, disk, options.quotas).catch(() => null);
    if (now?.nodeId !== target.id) await transfer.erase(destination).catch(() => undefined);
    throw error;
  }
  return {
    name: state.name,
    from: state.nodeId,
    to: target.id,
    files,
    bytes,
    abandoned: input.abandon !== undefined,
    skipped,
    oldCopyErased: state.nodeId === null,
    oldCopyWaiting: null,
  };
}

/** The id a pending erase of this disk is filed under: the volume's, or the workspace's for /workspace. */
export function reapId(workspaceId: string, disk: DiskRef): string {
  return 'volumeId' in disk ? disk.volumeId : workspaceId;
}

async function usedSince(tx: Reader, workspaceId: string, disk: DiskRef, since: Date): Promise<number> {
  const volumeId = 'volumeId' in disk ? disk.volumeId : null;
  const [row] = await tx.$queryRaw<{ count: number }[]>`
    SELECT count(*)::int AS count FROM "Container" c
    WHERE c."workspaceId" = ${workspaceId}::uuid
      AND (CASE WHEN ${volumeId}::uuid IS NULL THEN c."mountsWorkspace" ELSE ${volumeId}::uuid = ANY(c."volumeIds") END)
      AND (c.state IN ('starting', 'running', 'hibernated') OR c."startedAt" >= ${since} OR c."endedAt" >= ${since})`;
  return row?.count ?? 0;
}

/** Where a disk lives and where it could go, for the move dialog. */
export interface DiskPlacement {
  name: string;
  nodeId: string | null;
  nodeState: 'active' | 'lost' | null;
  nodeLostReason: string | null;
  /** Every registered node, online first. */
  nodes: { id: string; state: 'active' | 'lost'; lostReason: string | null }[];
  /** Live containers that mount it (a move is refused while there are any). */
  mountedBy: string[];
  /** A move running now (another one is refused, and file-browser writes wait until it ends). */
  moving: DiskMoveInProgress | null;
}

/** The node holding a disk, the nodes it could move to, and what mounts it now. */
export async function diskPlacement(db: Db, workspaceId: string, disk: DiskRef): Promise<DiskPlacement> {
  const state = await diskState(db, workspaceId, disk);
  const [nodes, holders, moving] = await Promise.all([
    db.node.findMany({
      select: { id: true, state: true, lostReason: true },
      orderBy: [{ state: 'asc' }, { id: 'asc' }],
    }),
    diskHolders(db, workspaceId, disk),
    diskMoveInProgress(db, { workspaceId, volume: state.volume }),
  ]);
  const home = nodes.find((node) => node.id === state.nodeId);
  return {
    name: state.name,
    nodeId: state.nodeId,
    nodeState: home?.state ?? null,
    nodeLostReason: home?.lostReason ?? null,
    nodes,
    mountedBy: holders.map((holder) => `${holder.label} (${holder.state})`),
    moving,
  };
}

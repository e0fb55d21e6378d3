import { DomainError, isUuid } from '@kiln/core';
import type { Db } from '@kiln/db';
import type { StoreContext } from './context.ts';
import { inTransaction, type Tx } from './tx.ts';
import { lockWorkspace } from './workspaces.ts';

/**
 * Named volumes and the workspace's /workspace folder are ext4 images on one node's disk and never
 * move, so the node that holds what a container mounts is a placement constraint: `Volume.nodeId` and
 * `WorkspaceDisk.nodeId`, set when first placed (with the first container that mounts it, or the first
 * file-browser use), pin every later container that mounts it. Every binding happens under the
 * workspace's lock, which every placement for the workspace takes first.
 */

/** The node a volume lives on, as the web app's file browser and disk deletion need it. */
export interface VolumeNode {
  id: string;
  url: string;
  state: 'active' | 'lost';
}

/** What a container mounts that lives on one node's disk. */
export interface Mounts {
  /** The workspace's named volumes it mounts. */
  volumeIds: readonly string[];
  /** Whether it mounts the workspace's /workspace folder (every gateway sandbox does). */
  workspace: boolean;
}

export const NO_MOUNTS: Mounts = { volumeIds: [], workspace: false };

/** What a stored container mounts. */
export function mountsOf(row: { volumeIds: string[]; mountsWorkspace: boolean }): Mounts {
  return { volumeIds: row.volumeIds, workspace: row.mountsWorkspace };
}

/** The node a container must run on, and why, for messages ("which holds its volumes"). */
export interface Home {
  nodeId: string;
  because: string;
}

interface VolumeRow {
  id: string;
  name: string;
  nodeId: string | null;
  nodeState: 'active' | 'lost' | null;
  lostReason: string | null;
}

/** Words for why a container is pinned to a node by what it mounts. */
export function homeReason(volumes: boolean, workspace: boolean): string {
  if (volumes && workspace) return 'which holds its volumes and /workspace';
  return workspace ? 'which holds /workspace' : 'which holds its volumes';
}

/**
 * The node that must run a container mounting `mounts` (caller holds the workspace's lock), or null
 * while none of them has a node yet (the container's node will become theirs). Throws NOT_FOUND for a
 * deleted volume, VALIDATION_FAILED for volumes (or /workspace) on different nodes, CONFLICT when their
 * node is lost.
 */
export async function volumeHome(tx: Tx | Db, workspaceId: string, mounts: Mounts): Promise<Home | null> {
  const ids = [...mounts.volumeIds];
  if (ids.length === 0 && !mounts.workspace) return null;
  const rows =
    ids.length === 0
      ? []
      : await tx.$queryRaw<VolumeRow[]>`
    SELECT v.id, v.name, v."nodeId", n.state::text AS "nodeState", n."lostReason"
    FROM "Volume" v LEFT JOIN "Node" n ON n.id = v."nodeId"
    WHERE v.id = ANY(${ids}::uuid[]) AND v."workspaceId" = ${workspaceId}::uuid
    ORDER BY v.name`;
  if (rows.length !== new Set(ids).size) {
    throw new DomainError(
      'NOT_FOUND',
      'A volume this kernel mounts no longer exists; choose its volumes again',
    );
  }
  const placed = rows.filter((row) => row.nodeId !== null);
  const homes = [...new Set(placed.map((row) => row.nodeId as string))];
  if (homes.length > 1) {
    const where = placed.map((row) => `${row.name} on node ${row.nodeId}`).join(', ');
    throw new DomainError(
      'VALIDATION_FAILED',
      `These volumes are on different nodes (${where}) and volumes do not move between nodes: one kernel can mount volumes of one node only.`,
      { reason: 'volumes_split', nodes: homes },
    );
  }
  const disk = mounts.workspace ? await workspaceDisk(tx, workspaceId) : null;
  const home = placed[0];
  if (disk?.nodeId && home && home.nodeId !== disk.nodeId) {
    const names = placed.map((row) => row.name).join(', ');
    throw new DomainError(
      'VALIDATION_FAILED',
      `The volume${placed.length > 1 ? 's' : ''} ${names} live${placed.length > 1 ? '' : 's'} on node ${home.nodeId} but this workspace's /workspace folder lives on node ${disk.nodeId}, and neither moves between nodes: start this kernel without ${placed.length > 1 ? 'these volumes' : 'this volume'}.`,
      { reason: 'volumes_split', nodes: [home.nodeId, disk.nodeId] },
    );
  }
  const because = homeReason(ids.length > 0, mounts.workspace);
  if (disk?.nodeId) {
    if (disk.nodeState !== 'active') {
      throw new DomainError(
        'CONFLICT',
        `This workspace's /workspace folder lives on node ${disk.nodeId}, which is offline (${disk.lostReason ?? 'lost'}). It does not move between nodes: its kernels start again once that node is back.`,
        { reason: 'volume_node_lost', nodeId: disk.nodeId },
      );
    }
    return { nodeId: disk.nodeId, because };
  }
  if (!home) return null;
  if (home.nodeState !== 'active') {
    const names = placed.map((row) => row.name).join(', ');
    throw new DomainError(
      'CONFLICT',
      `The volume${placed.length > 1 ? 's' : ''} ${names} live${placed.length > 1 ? '' : 's'} on node ${home.nodeId}, which is offline (${home.lostReason ?? 'lost'}). Volumes do not move between nodes: start this kernel once that node is back, or without ${placed.length > 1 ? 'these volumes' : 'this volume'}.`,
      { reason: 'volume_node_lost', nodeId: home.nodeId },
    );
  }
  return { nodeId: home.nodeId as string, because };
}

/** The node holding the workspace's /workspace folder (null: none yet) and that node's state. */
async function workspaceDisk(
  tx: Tx | Db,
  workspaceId: string,
): Promise<{ nodeId: string | null; nodeState: 'active' | 'lost' | null; lostReason: string | null } | null> {
  const [row] = await tx.$queryRaw<
    { nodeId: string | null; nodeState: 'active' | 'lost' | null; lostReason: string | null }[]
  >`
    SELECT d."nodeId", n.state::text AS "nodeState", n."lostReason"
    FROM "WorkspaceDisk" d JOIN "Node" n ON n.id = d."nodeId"
    WHERE d."workspaceId" = ${workspaceId}::uuid`;
  return row ?? null;
}

/**
 * Makes `nodeId` the home of what `mounts` names that has none yet (the caller placed a container of
 * `workspaceId` there, holding the workspace's lock).
 */
export async function bindVolumes(
  tx: Tx,
  workspaceId: string,
  mounts: Mounts,
  nodeId: string,
): Promise<void> {
  const ids = [...mounts.volumeIds];
  if (ids.length > 0) {
    await tx.$executeRaw`
      UPDATE "Volume" SET "nodeId" = ${nodeId} WHERE id = ANY(${ids}::uuid[]) AND "nodeId" IS NULL`;
  }
  if (mounts.workspace) {
    await tx.$executeRaw`
      INSERT INTO "WorkspaceDisk" ("workspaceId", "nodeId") VALUES (${workspaceId}::uuid, ${nodeId})
      ON CONFLICT ("workspaceId") DO NOTHING`;
  }
}

const NODE_FIELDS = { id: true, url: true, state: true } as const;

/**
 * Why node `nodeId` must not serve (and so create) a workspace's disk, or null when it may: the disk
 * lives there, has no node yet, or is being moved there (the move's copy writes to it). A deleted
 * volume, or a disk recorded on another node (moved away, its copy here erased), is refused, so a late
 * file-browser request cannot make an empty disk again on a node that gave it up.
 */
export async function diskRefusal(
  db: Db,
  workspaceId: string,
  volume: string,
  nodeId: string,
): Promise<string | null> {
  const workspace = volume === 'workspace';
  if (!isUuid(workspaceId) || (!workspace && !isUuid(volume))) return 'No such disk';
  const diskId = workspace ? workspaceId : volume;
  const [row] = await db.$queryRaw<{ known: boolean; home: string | null; incoming: boolean }[]>`
    SELECT
      (${workspace}::boolean OR EXISTS (SELECT 1 FROM "Volume" v
        WHERE v.id = ${diskId}::uuid AND v."workspaceId" = ${workspaceId}::uuid)) AS known,
      (CASE WHEN ${workspace}::boolean
        THEN (SELECT d."nodeId" FROM "WorkspaceDisk" d WHERE d."workspaceId" = ${workspaceId}::uuid)
        ELSE (SELECT v."nodeId" FROM "Volume" v WHERE v.id = ${diskId}::uuid) END) AS home,
      EXISTS (SELECT 1 FROM "DiskMove" m WHERE m."diskId" = ${diskId}::uuid AND m."toNodeId" = ${nodeId}
        AND m."expiresAt" >= clock_timestamp()) AS incoming`;
  if (!row?.known) return 'This volume was deleted; its files are no longer kept';
  if (row.home === null || row.home === nodeId || row.incoming) return null;
  return `${workspace ? "This workspace's /workspace folder" : 'This volume'} lives on node ${row.home} now, not on node ${nodeId}; reload the page to reach it there`;
}

/**
 * The node holding a volume of the workspace. A volume no container has used yet is given the node of
 * the workspace's /workspace folder (so one kernel can mount both), or else the longest-registered
 * active node (where single-node installs kept every volume); null when it has no node and none is online.
 */
export async function volumeNode(
  ctx: StoreContext,
  workspaceId: string,
  volumeId: string,
): Promise<VolumeNode | null> {
  if (!isUuid(volumeId)) throw new DomainError('NOT_FOUND', 'Volume not found');
  return inTransaction(ctx.db, { timeoutMs: ctx.transactionTimeoutMs }, async (tx) => {
    await lockWorkspace(tx, workspaceId);
    const volume = await tx.volume.findFirst({
      where: { id: volumeId, workspaceId },
      select: { node: { select: NODE_FIELDS } },
    });
    if (!volume) throw new DomainError('NOT_FOUND', 'Volume not found');
    if (volume.node) return volume.node;
    const workspace = await tx.workspaceDisk.findUnique({
      where: { workspaceId },
      select: { node: { select: NODE_FIELDS } },
    });
    const disk = workspace?.node.state === 'active' ? workspace.node : null;
    const home = disk ?? (await oldestActiveNode(tx));
    if (!home) return null;
    await bindVolumes(tx, workspaceId, { volumeIds: [volumeId], workspace: false }, home.id);
    return home;
  });
}

/**
 * The node holding the workspace's /workspace folder. A workspace no container has used yet is given
 * the longest-registered active node (where single-node installs kept it); null when it has no node and
 * none is online.
 */
export async function workspaceDiskNode(ctx: StoreContext, workspaceId: string): Promise<VolumeNode | null> {
  if (!isUuid(workspaceId)) throw new DomainError('NOT_FOUND', 'Workspace not found');
  return inTransaction(ctx.db, { timeoutMs: ctx.transactionTimeoutMs }, async (tx) => {
    await lockWorkspace(tx, workspaceId);
    const disk = await tx.workspaceDisk.findUnique({
      where: { workspaceId },
      select: { node: { select: NODE_FIELDS } },
    });
    if (disk) return disk.node;
    const oldest = await oldestActiveNode(tx);
    if (!oldest) return null;
    await bindVolumes(tx, workspaceId, { volumeIds: [], workspace: true }, oldest.id);
    return oldest;
  });
}

function oldestActiveNode(tx: Tx): Promise<VolumeNode | null> {
  return tx.node.findFirst({
    where: { state: 'active' },
    orderBy: [{ registeredAt: 'asc' }, { id: 'asc' }],
    select: NODE_FIELDS,
  });
}

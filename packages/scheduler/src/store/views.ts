import type { ContainerModel as Container, Db } from '@kiln/db';
import type { GpuTypeName } from '../gpu-types.ts';
import { describeWant, fairOrder, type QueuedEntry, queueAhead } from '../policy/fair-queue.ts';
import { parseGpuString } from '../resource-request.ts';
import type { ContainerView, QueueStatus, StopCode } from '../types.ts';
import { GPU_SOURCE } from './capacity.ts';
import type { Tx } from './tx.ts';
import { homeReason } from './volumes.ts';

type Row = Container & { node: { url: string; gpuSource: keyof typeof GPU_SOURCE } | null };

export const WITH_NODE = { node: { select: { url: true, gpuSource: true } } } as const;

/** A container row as the API shows it; `queue` is filled in for queued rows by `withQueueStatus`. */
export function toContainerView(row: Row, queue: QueueStatus | null = null): ContainerView {
  return {
    id: row.id,
    workspaceId: row.workspaceId,
    kind: row.kind,
    ownerId: row.ownerId,
    requestedById: row.requestedById,
    requested: { cpu: row.cpu, memoryMiB: row.memoryMiB, gpu: row.gpuRequest.map(parseGpuString) },
    state: row.state,
    node: row.nodeId && row.node ? { id: row.nodeId, url: row.node.url } : null,
    gpu:
      row.gpuType && row.gpuIndices.length > 0
        ? {
            type: row.gpuType as GpuTypeName,
            count: row.gpuIndices.length,
            indices: row.gpuIndices,
            source: row.node ? GPU_SOURCE[row.node.gpuSource] : 'none',
          }
        : null,
    queue: row.state === 'queued' ? queue : null,
    requestedAt: row.requestedAt,
    queuedAt: row.queuedAt,
    startedAt: row.startedAt,
    runningAt: row.runningAt,
    hibernatedAt: row.hibernatedAt,
    endedAt: row.endedAt,
    stateChangedAt: row.stateChangedAt,
    stop: row.stopCode ? { code: row.stopCode as StopCode, reason: row.stopReason ?? '' } : null,
  };
}

/** A queued row as the fair-queue policy sees it. */
export function toQueuedEntry(row: Container): QueuedEntry & { row: Container } {
  return {
    id: row.id,
    workspaceId: row.workspaceId,
    queuedAt: (row.queuedAt ?? row.requestedAt).getTime(),
    fairTag: row.fairTag ?? 0,
    cpu: row.cpu,
    memoryMiB: row.memoryMiB,
    gpu: wantedGpus(row),
    pinnedNodeId: row.pinnedNodeId,
    row,
  };
}

/** What a queued row waits for: a resumed kernel wants exactly the GPUs it had, others what they asked. */
export function wantedGpus(row: Container): QueuedEntry['gpu'] {
  // A resumed kernel still names its node; one pinned only by its volumes was never placed.
  if (row.pinnedNodeId && row.nodeId) {
    return row.gpuType && row.gpuIndices.length > 0
      ? [{ type: row.gpuType as GpuTypeName, count: row.gpuIndices.length }]
      : [];
  }
  return row.gpuRequest.map(parseGpuString);
}

/** Position and reason of every queued container, in the queue's fair order. */
export async function queueStatuses(db: Tx | Db): Promise<Map<string, QueueStatus>> {
  const rows = await db.container.findMany({ where: { state: 'queued' } });
  const ordered = fairOrder(rows.map(toQueuedEntry));
  const ahead = queueAhead(ordered);
  const online = await db.node.count({ where: { state: 'active' } });
  const statuses = new Map<string, QueueStatus>();
  for (const entry of ordered) {
    const count = ahead.get(entry.id) ?? 0;
    const want = describeWant(entry);
    const byMounts = (entry.row.volumeIds.length > 0 || entry.row.mountsWorkspace) && !entry.row.nodeId;
    const because = homeReason(entry.row.volumeIds.length > 0, entry.row.mountsWorkspace);
    const where = entry.pinnedNodeId
      ? ` on node ${entry.pinnedNodeId}${byMounts ? ` (${because.replace(/^which/, 'it')})` : ''}`
      : '';
    const reason =
      online === 0
        ? `waiting for a node to come online (${want})`
        : `waiting for ${want}${where}: ${count} ahead`;
    statuses.set(entry.id, {
      position: count + 1,
      ahead: count,
      reason,
      deadline: entry.row.queueDeadlineAt ?? entry.row.requestedAt,
    });
  }
  return statuses;
}

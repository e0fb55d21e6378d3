import { DomainError } from '@kiln/core';
import type { ContainerModel as Container, ContainerEventModel as ContainerEvent } from '@kiln/db';
import type { GpuTypeName } from '../gpu-types.ts';
import type { ContainerState, ContainerTransition, StopCode } from '../types.ts';
import type { Tx } from './tx.ts';

/**
 * Which states each state may move to; stopped is final. A lost container comes back (revived) when its
 * node registers again reporting it alive, or is given up (stopped).
 */
const NEXT: Record<ContainerState, readonly ContainerState[]> = {
  queued: ['starting', 'stopped'],
  starting: ['running', 'stopped', 'lost'],
  running: ['hibernated', 'stopped', 'lost'],
  hibernated: ['starting', 'queued', 'stopped', 'lost'],
  stopped: [],
  lost: ['running', 'hibernated', 'stopped'],
};

/** States in which a container holds its node's CPU, memory and GPUs. */
export const HOLDING: readonly ContainerState[] = ['starting', 'running'];
/** States that count against the plan's container limit. */
export const COUNTED: readonly ContainerState[] = ['queued', 'starting', 'running'];

export interface Change {
  to: ContainerState;
  nodeId?: string | null;
  gpuType?: GpuTypeName | null;
  gpuIndices?: number[];
  reservedGpus?: number;
  pinnedNodeId?: string | null;
  queueDeadlineAt?: Date | null;
  fairTag?: number | null;
  code?: StopCode | null;
  reason?: string | null;
}

const STAMP: Record<ContainerState, keyof Container> = {
  queued: 'queuedAt',
  starting: 'startedAt',
  running: 'runningAt',
  hibernated: 'hibernatedAt',
  stopped: 'endedAt',
  lost: 'endedAt',
};

/** Locks a container's row for the rest of the transaction, so its changes are written one at a time. */
export async function lockContainer(tx: Tx, id: string): Promise<Container | null> {
  const rows = await tx.$queryRaw<
    { id: string }[]
  >`SELECT id FROM "Container" WHERE id = ${id}::uuid FOR UPDATE`;
  if (rows.length === 0) return null;
  return tx.container.findUnique({ where: { id } });
}

/** Whether `from` may move to `to`. */
export function canMove(from: ContainerState, to: ContainerState): boolean {
  return NEXT[from].includes(to);
}

/**
 * Moves a locked container to a new state and appends its event, in the caller's transaction, at the
 * database time `at`. Refuses moves the state machine does not allow.
 */
export async function transition(
  tx: Tx,
  row: Container,
  change: Change,
  at: Date,
): Promise<ContainerTransition> {
  if (!canMove(row.state, change.to)) {
    throw new DomainError(
      'CONFLICT',
      `Container ${row.id} is ${row.state}${row.stopReason ? ` (${row.stopReason})` : ''} and cannot become ${change.to}`,
      { containerId: row.id, state: row.state, wanted: change.to },
    );
  }
  const seq = row.eventSeq + 1;
  // A lost container given up ended when it was lost; one that came back has not ended.
  const stamp =
    row.state === 'lost'
      ? change.to === 'stopped'
        ? {}
        : { [STAMP[change.to]]: at, endedAt: null }
      : { [STAMP[change.to]]: at };
  const updated = await tx.container.update({
    where: { id: row.id },
    data: {
      state: change.to,
      stateChangedAt: at,
      ...stamp,
      eventSeq: seq,
      ...(change.nodeId !== undefined ? { nodeId: change.nodeId } : {}),
      ...(change.gpuType !== undefined ? { gpuType: change.gpuType } : {}),
      ...(change.gpuIndices !== undefined ? { gpuIndices: change.gpuIndices } : {}),
      ...(change.reservedGpus !== undefined ? { reservedGpus: change.reservedGpus } : {}),
      ...(change.pinnedNodeId !== undefined ? { pinnedNodeId: change.pinnedNodeId } : {}),
      ...(change.queueDeadlineAt !== undefined ? { queueDeadlineAt: change.queueDeadlineAt } : {}),
      ...(change.fairTag !== undefined ? { fairTag: change.fairTag } : {}),
      ...(change.code !== undefined ? { stopCode: change.code } : {}),
      ...(change.reason !== undefined ? { stopReason: change.reason } : {}),
    },
  });
  return appendEvent(tx, updated, row.state, seq, at);
}

/** Writes a new container's first event (its creation in `row.state`). */
export function recordCreated(tx: Tx, row: Container): Promise<ContainerTransition> {
  return appendEvent(tx, row, null, row.eventSeq, row.stateChangedAt);
}

async function appendEvent(
  tx: Tx,
  row: Container,
  from: ContainerState | null,
  seq: number,
  at: Date,
): Promise<ContainerTransition> {
  const holds = HOLDING.includes(row.state) && row.gpuType !== null && row.gpuIndices.length > 0;
  const event = await tx.containerEvent.create({
    data: {
      containerId: row.id,
      seq,
      workspaceId: row.workspaceId,
      kind: row.kind,
      ownerId: row.ownerId,
      requestedById: row.requestedById,
      fromState: from,
      toState: row.state,
      at,
      nodeId: row.nodeId,
      gpuType: holds ? row.gpuType : null,
      gpuCount: holds ? row.gpuIndices.length : 0,
      gpuIndices: holds ? row.gpuIndices : [],
      cpu: row.cpu,
      memoryMiB: row.memoryMiB,
      code: row.state === 'stopped' || row.state === 'lost' ? row.stopCode : null,
      reason: row.state === 'stopped' || row.state === 'lost' ? row.stopReason : null,
    },
  });
  return toTransition(event);
}

/** An event row as the API shows it. */
export function toTransition(event: ContainerEvent): ContainerTransition {
  return {
    cursor: `${event.txId}-${event.id}`,
    containerId: event.containerId,
    seq: event.seq,
    workspaceId: event.workspaceId,
    kind: event.kind,
    ownerId: event.ownerId,
    requestedById: event.requestedById,
    from: event.fromState,
    to: event.toState,
    at: event.at,
    nodeId: event.nodeId,
    cpu: event.cpu,
    memoryMiB: event.memoryMiB,
    gpu:
      event.gpuType && event.gpuCount > 0
        ? { type: event.gpuType as GpuTypeName, count: event.gpuCount, indices: event.gpuIndices }
        : null,
    code: (event.code as StopCode | null) ?? null,
    reason: event.reason,
  };
}

/** Gives a container's devices back to its node. */
export async function releaseGpus(tx: Tx, containerId: string): Promise<void> {
  await tx.nodeGpu.updateMany({ where: { containerId }, data: { containerId: null } });
}

/** Hands devices to a container; they must still be free (the caller holds the node's lock). */
export async function claimGpus(
  tx: Tx,
  nodeId: string,
  indices: number[],
  containerId: string,
): Promise<void> {
  if (indices.length === 0) return;
  const claimed = await tx.nodeGpu.updateMany({
    where: { nodeId, index: { in: indices }, containerId: null },
    data: { containerId },
  });
  if (claimed.count !== indices.length) {
    throw new DomainError('INTERNAL', `GPUs ${indices.join(', ')} of node ${nodeId} were taken while locked`);
  }
}

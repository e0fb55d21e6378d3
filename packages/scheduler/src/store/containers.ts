import { DomainError, isUuid } from '@kiln/core';
import type { ContainerModel as Container } from '@kiln/db';
import type { PlacementRequest } from '../policy/capacity.ts';
import type { NormalizedResourceRequest } from '../resource-request.ts';
import type { ContainerKind, ContainerState, ContainerTransition, StopCode } from '../types.ts';
import { type Admission, admit, busyError } from './admit.ts';
import type { StoreContext } from './context.ts';
import { fairTagFor } from './queue.ts';
import { claimGpus, lockContainer, recordCreated, releaseGpus, transition } from './transition.ts';
import { dbNow, inTransaction, type Tx } from './tx.ts';
import { wantedGpus } from './views.ts';
import { mountsOf } from './volumes.ts';

export interface CreateInput {
  workspaceId: string;
  kind: ContainerKind;
  ownerId: string;
  requestedById: string | null;
  request: NormalizedResourceRequest;
  /** Named volumes it mounts: it may run only on their node. */
  volumeIds: readonly string[];
  /** Whether it mounts /workspace: it may run only on the node holding it. */
  mountsWorkspace: boolean;
  whenBusy: 'queue' | 'refuse';
  queueTimeoutMs: number;
}

export interface Written {
  id: string;
  transitions: ContainerTransition[];
}

/** Admits a new container: placed on a node (starting) or waiting (queued), one transaction. */
export async function createContainer(ctx: StoreContext, input: CreateInput): Promise<Written> {
  return inTransaction(ctx.db, { timeoutMs: ctx.transactionTimeoutMs }, async (tx) => {
    const mounts = { volumeIds: input.volumeIds, workspace: input.mountsWorkspace };
    const admission = await admit(tx, ctx, input.workspaceId, input.request, mounts);
    if (admission.kind === 'queue' && input.whenBusy === 'refuse')
      throw busyError(input.request, admission.why);
    const now = await dbNow(tx);
    const placed = admission.kind === 'place' ? admission.decision : null;
    const fairTag = placed ? null : await fairTagFor(tx, input.workspaceId);
    const row = await tx.container.create({
      data: {
        workspaceId: input.workspaceId,
        kind: input.kind,
        ownerId: input.ownerId,
        requestedById: input.requestedById,
        cpu: input.request.cpu,
        memoryMiB: input.request.memoryMiB,
        gpuRequest: input.request.gpu.map((choice) => `${choice.type}:${choice.count}`),
        state: placed ? 'starting' : 'queued',
        nodeId: placed?.nodeId ?? null,
        gpuType: placed?.choice?.type ?? null,
        gpuIndices: placed?.gpuIndices ?? [],
        reservedGpus: admission.kind === 'queue' ? admission.reservedGpus : 0,
        pinnedNodeId: admission.kind === 'queue' ? admission.pinnedNodeId : null,
        volumeIds: [...input.volumeIds],
        mountsWorkspace: input.mountsWorkspace,
        fairTag,
        queueDeadlineAt: placed ? null : new Date(now.getTime() + input.queueTimeoutMs),
        requestedAt: now,
        queuedAt: placed ? null : now,
        startedAt: placed ? now : null,
        stateChangedAt: now,
        eventSeq: 1,
      },
    });
    if (placed) await claimGpus(tx, placed.nodeId, placed.gpuIndices, row.id);
    return { id: row.id, transitions: [await recordCreated(tx, row)] };
  });
}

/** Locks a container that must exist, inside `work`'s transaction. */
async function withContainer(
  ctx: StoreContext,
  id: string,
  work: (tx: Tx, row: Container, now: Date) => Promise<ContainerTransition[]>,
): Promise<Written> {
  if (!isUuid(id)) throw new DomainError('NOT_FOUND', `No container ${id}`);
  return inTransaction(ctx.db, { timeoutMs: ctx.transactionTimeoutMs }, async (tx) => {
    const row = await lockContainer(tx, id);
    if (!row) throw new DomainError('NOT_FOUND', `No container ${id}`);
    return { id, transitions: await work(tx, row, await dbNow(tx)) };
  });
}

/** starting → running, once the sandbox answers. */
export function markRunning(ctx: StoreContext, id: string): Promise<Written> {
  return withContainer(ctx, id, async (tx, row, now) => [await transition(tx, row, { to: 'running' }, now)]);
}

/** running → hibernated: its GPUs, CPU and memory go back to the node; it stays on the node's disk. */
export function hibernate(ctx: StoreContext, id: string): Promise<Written> {
  return withContainer(ctx, id, async (tx, row, now) => {
    await releaseGpus(tx, row.id);
    return [await transition(tx, row, { to: 'hibernated' }, now)];
  });
}

/** hibernated → starting on the same node with the same GPU shape, or queued for room there. */
export function resume(
  ctx: StoreContext,
  id: string,
  options: { whenBusy: 'queue' | 'refuse'; queueTimeoutMs: number },
): Promise<Written> {
  return withContainer(ctx, id, async (tx, row, now) => {
    if (row.state !== 'hibernated' || !row.nodeId) {
      throw new DomainError('CONFLICT', `Container ${id} is ${row.state}, not hibernated`, {
        state: row.state,
      });
    }
    const request: PlacementRequest = {
      cpu: row.cpu,
      memoryMiB: row.memoryMiB,
      gpu: wantedGpus({ ...row, pinnedNodeId: row.nodeId }),
      nodeId: row.nodeId,
    };
    const admission: Admission = await admit(tx, ctx, row.workspaceId, request, mountsOf(row));
    if (admission.kind === 'place') {
      const { decision } = admission;
      const moved = await transition(
        tx,
        row,
        {
          to: 'starting',
          gpuType: decision.choice?.type ?? null,
          gpuIndices: decision.gpuIndices,
          pinnedNodeId: null,
        },
        now,
      );
      await claimGpus(tx, decision.nodeId, decision.gpuIndices, row.id);
      return [moved];
    }
    if (options.whenBusy === 'refuse') throw busyError(request, admission.why);
    const deadline = new Date(now.getTime() + options.queueTimeoutMs);
    return [
      await transition(
        tx,
        row,
        {
          to: 'queued',
          pinnedNodeId: row.nodeId,
          reservedGpus: admission.reservedGpus,
          queueDeadlineAt: deadline,
        },
        now,
      ),
    ];
  });
}

const FINAL: readonly ContainerState[] = ['stopped'];

/**
 * Any live state → stopped, freeing what it held; a lost container is given up (it will not come back
 * with its node); stopping a stopped container changes nothing.
 */
export function stop(ctx: StoreContext, id: string, code: StopCode, reason: string): Promise<Written> {
  return withContainer(ctx, id, async (tx, row, now) => {
    if (FINAL.includes(row.state)) return [];
    await releaseGpus(tx, row.id);
    return [
      await transition(tx, row, { to: 'stopped', code, reason, reservedGpus: 0, queueDeadlineAt: null }, now),
    ];
  });
}

/** queued → stopped; refuses a container that already left the queue. */
export function cancel(ctx: StoreContext, id: string, reason: string): Promise<Written> {
  return withContainer(ctx, id, async (tx, row, now) => {
    if (row.state !== 'queued') {
      throw new DomainError('CONFLICT', `Container ${id} is ${row.state}, no longer waiting`, {
        state: row.state,
      });
    }
    return [
      await transition(
        tx,
        row,
        { to: 'stopped', code: 'cancelled', reason, reservedGpus: 0, queueDeadlineAt: null },
        now,
      ),
    ];
  });
}

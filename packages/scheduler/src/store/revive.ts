import { isDomainError } from '@kiln/core';
import type { ContainerModel as Container } from '@kiln/db';
import { CPU_EPSILON } from '../policy/capacity.ts';
import { checkContainerCount, gpuCountsWithinLimit, gpuQuotaError } from '../policy/limits.ts';
import type { ContainerTransition } from '../types.ts';
import { loadCluster } from './capacity.ts';
import type { StoreContext } from './context.ts';
import { claimGpus, lockContainer, transition } from './transition.ts';
import { dbNow, inTransaction, type Tx } from './tx.ts';
import { lockWorkspace, workspaceUsage } from './workspaces.ts';

/** A lost container its node reported alive that could not have its place back, and why. */
export interface RefusedRevival {
  id: string;
  reason: string;
}

export interface Revival {
  transitions: ContainerTransition[];
  refused: RefusedRevival[];
}

/**
 * Locks, in id order, the containers a re-registering node reports alive (whatever their state), and
 * their workspaces: the order placement and loss detection take locks in (containers, workspace, node),
 * so a registration and a declaration of loss wait for each other instead of deadlocking.
 */
export async function lockReported(tx: Tx, nodeId: string, alive: readonly string[]): Promise<void> {
  if (alive.length === 0) return;
  const rows = await tx.$queryRaw<{ id: string; workspaceId: string }[]>`
    SELECT id, "workspaceId" FROM "Container"
    WHERE id::text = ANY(${[...alive]}::text[]) AND COALESCE("nodeId", "pinnedNodeId") = ${nodeId}
    ORDER BY id FOR UPDATE`;
  for (const workspaceId of [...new Set(rows.map((row) => row.workspaceId))].sort())
    await lockWorkspace(tx, workspaceId);
}

/**
 * Brings back the lost containers of `nodeId` that its gateway reports alive (it re-adopted their
 * sandboxes after a restart), in the registration's transaction, after the node is active again with its
 * GPU list renewed: lost → the state it was lost in (running, or hibernated), taking back its CPU,
 * memory and the very GPUs its process uses. One whose room was given to another container meanwhile,
 * or that its workspace's plan no longer has room for, is given up (stopped) and listed as refused with
 * the reason, for the gateway to stop it. Lost containers of the node it does not report are given up.
 */
export async function reviveReported(
  tx: Tx,
  ctx: StoreContext,
  nodeId: string,
  alive: readonly string[],
): Promise<Revival> {
  const reported = new Set(alive);
  const lost = await tx.container.findMany({
    where: { nodeId, state: 'lost' },
    orderBy: { id: 'asc' },
  });
  const transitions: ContainerTransition[] = [];
  const refused: RefusedRevival[] = [];
  for (const candidate of lost) {
    const row = await lockContainer(tx, candidate.id);
    if (row?.state !== 'lost') continue;
    const now = await dbNow(tx);
    if (!reported.has(row.id)) {
      transitions.push(
        await giveUp(
          tx,
          row,
          `Node ${nodeId} came back without this kernel: ${row.stopReason ?? 'lost'}`,
          now,
        ),
      );
      continue;
    }
    const previous = await stateBeforeLoss(tx, row);
    const why = previous === 'running' ? await whyNoRoom(tx, ctx, row) : null;
    if (why) {
      const reason = `Node ${nodeId} came back with this kernel alive, but ${why}, so it was stopped`;
      refused.push({ id: row.id, reason });
      transitions.push(await giveUp(tx, row, reason, now));
      continue;
    }
    if (previous === 'running') await claimGpus(tx, nodeId, row.gpuIndices, row.id);
    transitions.push(await transition(tx, row, { to: previous, code: null, reason: null }, now));
  }
  return { transitions, refused };
}

/** What a lost container was before its node was lost: hibernated stays hibernated, anything else ran. */
async function stateBeforeLoss(tx: Tx, row: Container): Promise<'running' | 'hibernated'> {
  const event = await tx.containerEvent.findFirst({
    where: { containerId: row.id, seq: row.eventSeq },
    select: { fromState: true },
  });
  return event?.fromState === 'hibernated' ? 'hibernated' : 'running';
}

/**
 * Why a lost container cannot run on its node again now (null: it can): the node's CPU, memory or its
 * GPUs went to others, or its workspace holds as much as its plan allows. The caller holds the node's
 * and the workspace's locks.
 */
async function whyNoRoom(tx: Tx, ctx: StoreContext, row: Container): Promise<string | null> {
  const plan = await lockWorkspace(tx, row.workspaceId);
  const usage = await workspaceUsage(tx, row.workspaceId);
  try {
    checkContainerCount(plan, ctx.plans, usage);
  } catch (error) {
    if (!isDomainError(error)) throw error;
    return `its workspace already runs as many containers as its plan allows (${error.message})`;
  }
  const gpus = row.gpuIndices.length;
  if (gpus > 0 && gpuCountsWithinLimit(plan, ctx.plans, usage.gpus, [gpus]).length === 0) {
    return `its workspace's GPU limit is taken (${gpuQuotaError(plan, ctx.plans, usage.gpus, gpus).message})`;
  }
  const [free] = (await loadCluster(tx, [row.nodeId as string])).free;
  if (!free) return 'its node is not active';
  if (free.cpuFree + CPU_EPSILON < row.cpu || free.memoryFreeMiB < row.memoryMiB) {
    return `its CPU or memory went to other kernels while the node was away (${free.cpuFree} CPU and ${free.memoryFreeMiB} MiB free, it needs ${row.cpu} CPU and ${row.memoryMiB} MiB)`;
  }
  if (gpus > 0) {
    const available = new Set(
      row.gpuType ? (free.freeGpus[row.gpuType as keyof typeof free.freeGpus] ?? []) : [],
    );
    const taken = row.gpuIndices.filter((index) => !available.has(index));
    if (taken.length > 0) {
      return `its GPU${taken.length > 1 ? 's' : ''} ${taken.join(', ')} went to another kernel (or the node no longer has ${taken.length > 1 ? 'them' : 'it'})`;
    }
  }
  return null;
}

function giveUp(tx: Tx, row: Container, reason: string, at: Date): Promise<ContainerTransition> {
  return transition(tx, row, { to: 'stopped', code: 'node_lost', reason, reservedGpus: 0 }, at);
}

/**
 * Gives up lost containers whose node has not brought them back for `afterMs` (lost → stopped): their
 * notebooks stop waiting, and the sandboxes are stopped if their gateway ever comes back. A batch per call.
 */
export async function giveUpLost(
  ctx: StoreContext,
  afterMs: number,
  batch = 200,
): Promise<ContainerTransition[]> {
  const stale = await ctx.db.$queryRaw<{ id: string }[]>`
    SELECT id FROM "Container" WHERE state = 'lost'
      AND "stateChangedAt" < clock_timestamp() - make_interval(secs => ${afterMs / 1000})
    ORDER BY "stateChangedAt" LIMIT ${batch}`;
  const transitions: ContainerTransition[] = [];
  for (const { id } of stale) {
    const done = await inTransaction(ctx.db, { timeoutMs: ctx.transactionTimeoutMs }, async (tx) => {
      const row = await lockContainer(tx, id);
      if (row?.state !== 'lost') return null;
      const now = await dbNow(tx);
      if (now.getTime() - row.stateChangedAt.getTime() < afterMs) return null;
      const reason = `${row.stopReason ?? 'Lost'}; its node did not bring it back within ${Math.round(afterMs / 1000)} s, so it was given up`;
      return giveUp(tx, row, reason, now);
    });
    if (done) transitions.push(done);
  }
  return transitions;
}

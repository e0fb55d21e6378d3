import type { PlanTier } from '@kiln/billing';
import { isDomainError } from '@kiln/core';
import { applyDecision, type PlacementRequest } from '../policy/capacity.ts';
import { describeWant, fairOrder, NodeHolds, nextFairTag, queueKeys } from '../policy/fair-queue.ts';
import { feasibleChoices, isFeasible, unsatisfiableError } from '../policy/feasibility.ts';
import { gpuCountsWithinLimit, type WorkspaceUsage } from '../policy/limits.ts';
import type { ContainerTransition } from '../types.ts';
import { pinToVolumes } from './admit.ts';
import { chooseAndLockNode, loadCluster } from './capacity.ts';
import type { StoreContext } from './context.ts';
import { claimGpus, lockContainer, transition } from './transition.ts';
import { dbNow, inTransaction, type Tx } from './tx.ts';
import { toQueuedEntry } from './views.ts';
import { bindVolumes, mountsOf, volumeHome } from './volumes.ts';
import { lockWorkspace, workspaceUsage } from './workspaces.ts';

// pg_advisory_xact_lock key ("kiln" "q"): one queue pass at a time, so passes keep the fair order. On
// the embedded PGlite every transaction already runs alone, which gives the same guarantee.
const QUEUE_LOCK = 0x6b696c6e71;

/**
 * One pass over the queue in fair order, placing every waiting request that fits. A request that does
 * not fit holds back later ones competing for the same GPU type (or CPU, or node), so a large request
 * is not overtaken forever; requests over their plan's GPU limit wait
 * without holding anyone back. Requests no node could ever run any more (or whose volumes' node is
 * lost) are ended with the reason, rather than left to time out. All in one transaction.
 */
export async function drainQueue(ctx: StoreContext): Promise<ContainerTransition[]> {
  const waiting = await ctx.db.container.count({ where: { state: 'queued' } });
  if (waiting === 0) return [];
  return inTransaction(ctx.db, { timeoutMs: ctx.transactionTimeoutMs }, async (tx) => {
    await tx.$queryRaw`SELECT pg_advisory_xact_lock(${QUEUE_LOCK}::bigint)::text AS locked`;
    const rows = await tx.container.findMany({ where: { state: 'queued' } });
    if (rows.length === 0) return [];
    const ordered = fairOrder(rows.map(toQueuedEntry));
    // Workspaces before nodes, in id order, as every placing transaction locks them: no lock cycles.
    const workspaces = new Map<string, { plan: PlanTier; usage: WorkspaceUsage }>();
    for (const id of [...new Set(rows.map((row) => row.workspaceId))].sort()) {
      workspaces.set(id, { plan: await lockWorkspace(tx, id), usage: await workspaceUsage(tx, id) });
    }
    const cluster = await loadCluster(tx);
    const locked = new Set<string>();
    const blocked = new Set<string>();
    // Nodes a pinned request waits for: unpinned requests leave their room to it.
    const reserved = new NodeHolds();
    const transitions: ContainerTransition[] = [];
    for (const entry of ordered) {
      const keys = queueKeys(entry);
      if (keys.some((key) => blocked.has(key))) continue;
      const asked: PlacementRequest = {
        cpu: entry.cpu,
        memoryMiB: entry.memoryMiB,
        gpu: entry.gpu,
        nodeId: entry.pinnedNodeId,
      };
      // Its volumes may have got a node (or lost it) since it started waiting.
      const request = await orRefuse(tx, entry.id, transitions, async () =>
        pinToVolumes(asked, await volumeHome(tx, entry.workspaceId, mountsOf(entry.row))),
      );
      if (!request) continue;
      if (!isFeasible(cluster.sizes, request)) {
        // No registered node, online or lost, could ever hold it (a node shrank, or it waited for the
        // first node): waiting on would only end in the timeout. It waits for a lost node to return.
        if (cluster.sizes.length > 0 && !isFeasible(cluster.registered, request)) {
          const reason = unsatisfiableError(cluster.registered, request).message;
          const refused = await refuseQueued(tx, entry.id, reason);
          if (refused) transitions.push(refused);
        }
        continue;
      }
      const workspace = workspaces.get(entry.workspaceId);
      if (!workspace) continue;
      const held = workspace.usage.gpus - entry.row.reservedGpus;
      const feasible = feasibleChoices(cluster.sizes, request);
      const allowed = new Set(
        gpuCountsWithinLimit(
          workspace.plan,
          ctx.plans,
          held,
          feasible.map((c) => c.count),
        ),
      );
      const gpu = feasible.filter((choice) => allowed.has(choice.count));
      if (request.gpu.length > 0 && gpu.length === 0) continue;
      const avoidNodes = request.nodeId ? undefined : reserved.avoiding(request);
      const placeable = { ...request, gpu, avoidNodes };
      const decision = await chooseAndLockNode(tx, cluster.free, placeable, locked);
      if (!decision) {
        for (const key of keys) blocked.add(key);
        if (request.nodeId) reserved.hold(request.nodeId, request);
        continue;
      }
      const row = await lockContainer(tx, entry.id);
      if (row?.state !== 'queued') continue;
      transitions.push(
        await transition(
          tx,
          row,
          {
            to: 'starting',
            nodeId: decision.nodeId,
            gpuType: decision.choice?.type ?? null,
            gpuIndices: decision.gpuIndices,
            reservedGpus: 0,
            queueDeadlineAt: null,
          },
          await dbNow(tx),
        ),
      );
      await claimGpus(tx, decision.nodeId, decision.gpuIndices, row.id);
      await bindVolumes(tx, row.workspaceId, mountsOf(row), decision.nodeId);
      applyDecision(cluster.free, placeable, decision);
      workspace.usage.gpus += decision.gpuIndices.length - row.reservedGpus;
    }
    return transitions;
  });
}

/**
 * `work`'s result, or null after ending the queued container `id` with the message of the DomainError
 * `work` threw (code `unplaceable`): a request that can never be placed is told so instead of waiting.
 */
async function orRefuse<T>(
  tx: Tx,
  id: string,
  transitions: ContainerTransition[],
  work: () => Promise<T>,
): Promise<T | null> {
  try {
    return await work();
  } catch (error) {
    if (!isDomainError(error)) throw error;
    const refused = await refuseQueued(tx, id, error.message);
    if (refused) transitions.push(refused);
    return null;
  }
}

/** Ends a queued container that can never be placed (code `unplaceable`), saying why. */
async function refuseQueued(tx: Tx, id: string, reason: string): Promise<ContainerTransition | null> {
  const row = await lockContainer(tx, id);
  if (row?.state !== 'queued') return null;
  const change = { to: 'stopped' as const, code: 'unplaceable' as const, reason, reservedGpus: 0 };
  return transition(tx, row, { ...change, queueDeadlineAt: null }, await dbNow(tx));
}

/** Ends every queued request whose wait ran past its deadline, with a message saying what it waited for. */
export async function expireQueue(ctx: StoreContext, onlyId?: string): Promise<ContainerTransition[]> {
  const only = onlyId ?? null;
  const due = await ctx.db.$queryRaw<{ id: string }[]>`
    SELECT id FROM "Container" WHERE state = 'queued' AND "queueDeadlineAt" <= clock_timestamp() AND (${only}::uuid IS NULL OR id = ${only}::uuid)`;
  const transitions: ContainerTransition[] = [];
  for (const { id } of due) {
    const done = await inTransaction(ctx.db, { timeoutMs: ctx.transactionTimeoutMs }, async (tx) => {
      const row = await lockContainer(tx, id);
      if (row?.state !== 'queued' || !row.queueDeadlineAt) return null;
      const now = await dbNow(tx);
      if (row.queueDeadlineAt > now) return null;
      const waited = now.getTime() - (row.queuedAt ?? row.requestedAt).getTime();
      return transition(
        tx,
        row,
        {
          to: 'stopped',
          code: 'queue_timeout',
          reason: timeoutReason(toQueuedEntry(row), waited),
          reservedGpus: 0,
          queueDeadlineAt: null,
        },
        now,
      );
    });
    if (done) transitions.push(done);
  }
  return transitions;
}

/** Words for a request that gave up waiting. */
export function timeoutReason(
  entry: { cpu: number; memoryMiB: number; gpu: PlacementRequest['gpu'] },
  waitedMs: number,
): string {
  return `Gave up after waiting ${formatDuration(waitedMs)} for ${describeWant(entry)}: nothing became free in time. Try another machine, or ask again later.`;
}

function formatDuration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  if (seconds < 120) return `${seconds} s`;
  const minutes = Math.round(seconds / 60);
  return minutes < 120 ? `${minutes} min` : `${Math.round(minutes / 60)} h`;
}

/**
 * The fair tag for a request of `workspaceId` that starts waiting now. The caller holds the workspace's
 * lock, so its backlog cannot change underneath.
 */
export async function fairTagFor(tx: Tx, workspaceId: string): Promise<number> {
  const [row] = await tx.$queryRaw<{ head: number | null; last: number | null; backlog: number | null }[]>`
    SELECT (SELECT min("fairTag") FROM "Container" WHERE state = 'queued') AS head,
           (SELECT max("fairTag") FROM "Container") AS last,
           (SELECT max("fairTag") FROM "Container" WHERE state = 'queued' AND "workspaceId" = ${workspaceId}::uuid)
             AS backlog`;
  return nextFairTag(row?.head ?? row?.last ?? 0, row?.backlog ?? null);
}

import type { PlanTier } from '@kiln/billing';
import { DomainError } from '@kiln/core';
import type { PlacementDecision, PlacementRequest } from '../policy/capacity.ts';
import { queueKeys } from '../policy/fair-queue.ts';
import { feasibleChoices, isFeasible, unsatisfiableError } from '../policy/feasibility.ts';
import {
  checkContainerCount,
  checkContainerSize,
  gpuCountsWithinLimit,
  gpuQuotaError,
} from '../policy/limits.ts';
import { parseGpuString } from '../resource-request.ts';
import { chooseAndLockNode, loadCluster } from './capacity.ts';
import type { StoreContext } from './context.ts';
import type { Tx } from './tx.ts';
import { lockWorkspace, workspaceUsage } from './workspaces.ts';

/** The outcome of admitting a request: a locked node to start on, or a place in the queue. */
export type Admission =
  | { kind: 'place'; decision: PlacementDecision }
  | { kind: 'queue'; reservedGpus: number; why: string };

/**
 * Checks a request against its workspace's plan and the cluster, in the caller's transaction (which
 * then holds the workspace's lock), and finds it a node unless it must wait. Throws QUOTA_EXCEEDED or
 * VALIDATION_FAILED (no node could ever run it) with a message that says what would work.
 */
export async function admit(
  tx: Tx,
  ctx: StoreContext,
  workspaceId: string,
  request: PlacementRequest,
): Promise<Admission> {
  const plan = await lockWorkspace(tx, workspaceId);
  checkContainerSize(plan, ctx.plans, ctx.operator, request);
  const usage = await workspaceUsage(tx, workspaceId);
  checkContainerCount(plan, ctx.plans, usage);
  const cluster = await loadCluster(tx);
  if (cluster.sizes.length === 0) {
    const gpu = withinGpuLimit(plan, ctx, usage.gpus, request.gpu);
    return { kind: 'queue', reservedGpus: smallest(gpu), why: 'no node is online' };
  }
  if (!isFeasible(cluster.sizes, request)) throw unsatisfiableError(cluster.sizes, request);
  const feasible = feasibleChoices(cluster.sizes, request);
  const gpu = withinGpuLimit(plan, ctx, usage.gpus, feasible);
  const placeable = { ...request, gpu };
  if (await competesWithQueue(tx, placeable)) {
    return { kind: 'queue', reservedGpus: smallest(gpu), why: 'others wait for the same resources' };
  }
  const decision = await chooseAndLockNode(tx, cluster.free, placeable, new Set());
  if (decision) return { kind: 'place', decision };
  return { kind: 'queue', reservedGpus: smallest(gpu), why: 'nothing fits now' };
}

/** The request's GPU choices that fit the plan's GPU limit; throws QUOTA_EXCEEDED when none does. */
function withinGpuLimit(
  plan: PlanTier,
  ctx: StoreContext,
  heldGpus: number,
  choices: PlacementRequest['gpu'],
): PlacementRequest['gpu'] {
  if (choices.length === 0) return choices;
  const allowed = new Set(
    gpuCountsWithinLimit(
      plan,
      ctx.plans,
      heldGpus,
      choices.map((c) => c.count),
    ),
  );
  const within = choices.filter((choice) => allowed.has(choice.count));
  if (within.length === 0) throw gpuQuotaError(plan, ctx.plans, heldGpus, smallest(choices));
  return within;
}

function smallest(choices: PlacementRequest['gpu']): number {
  return choices.length === 0 ? 0 : Math.min(...choices.map((choice) => choice.count));
}

/**
 * Whether a queued request wants what this one wants: then this one queues behind it rather than
 * overtaking it, and the queue's fair order decides.
 */
async function competesWithQueue(tx: Tx, request: PlacementRequest): Promise<boolean> {
  const waiting = await tx.$queryRaw<{ gpuRequest: string[]; pinnedNodeId: string | null }[]>`
    SELECT DISTINCT "gpuRequest", "pinnedNodeId" FROM "Container" WHERE state = 'queued'`;
  if (waiting.length === 0) return false;
  const mine = queueKeys(request);
  return waiting.some((row) => {
    const keys = queueKeys({ gpu: row.gpuRequest.map(parseGpuString), pinnedNodeId: row.pinnedNodeId });
    return keys.some((key) => mine.includes(key));
  });
}

/** The error for a request that would have to wait when the caller asked not to. */
export function busyError(request: PlacementRequest, why: string): DomainError {
  const wanted = request.gpu.map((choice) => `${choice.type}:${choice.count}`).join(' or ') || 'CPU';
  return new DomainError(
    'GPU_UNAVAILABLE',
    `No node has room for ${wanted} now (${why}); try again later or let it queue.`,
    {
      wanted,
    },
  );
}

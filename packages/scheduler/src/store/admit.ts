import type { PlanTier } from '@kiln/billing';
import { DomainError } from '@kiln/core';
import type { PlacementDecision, PlacementRequest } from '../policy/capacity.ts';
import { NodeHolds, queueKeys } from '../policy/fair-queue.ts';
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
import { bindVolumes, type Home, type Mounts, NO_MOUNTS, volumeHome } from './volumes.ts';
import { lockWorkspace, workspaceUsage } from './workspaces.ts';

/** The outcome of admitting a request: a locked node to start on, or a place in the queue. */
export type Admission =
  | { kind: 'place'; decision: PlacementDecision }
  | { kind: 'queue'; reservedGpus: number; why: string; pinnedNodeId: string | null };

/**
 * Checks a request against its workspace's plan and the cluster, in the caller's transaction (which
 * then holds the workspace's lock), and finds it a node unless it must wait. A request mounting named
 * volumes or /workspace may only go to the node that holds them (and makes its node theirs when they
 * have none).
 * Throws QUOTA_EXCEEDED, VALIDATION_FAILED (no node could ever run it) or CONFLICT (its volumes' node
 * is lost) with a message that says what would work.
 */
export async function admit(
  tx: Tx,
  ctx: StoreContext,
  workspaceId: string,
  asked: PlacementRequest,
  mounts: Mounts = NO_MOUNTS,
): Promise<Admission> {
  const plan = await lockWorkspace(tx, workspaceId);
  checkContainerSize(plan, ctx.plans, ctx.operator, asked);
  const usage = await workspaceUsage(tx, workspaceId);
  checkContainerCount(plan, ctx.plans, usage);
  const request = pinToVolumes(asked, await volumeHome(tx, workspaceId, mounts));
  const pinnedNodeId = request.nodeId ?? null;
  const cluster = await loadCluster(tx);
  if (cluster.sizes.length === 0) {
    const gpu = withinGpuLimit(plan, ctx, usage.gpus, request.gpu);
    return { kind: 'queue', reservedGpus: smallest(gpu), why: 'no node is online', pinnedNodeId };
  }
  if (!isFeasible(cluster.sizes, request)) throw unsatisfiableError(cluster.sizes, request);
  const feasible = feasibleChoices(cluster.sizes, request);
  const gpu = withinGpuLimit(plan, ctx, usage.gpus, feasible);
  const waiting = await queuedWants(tx);
  const avoidNodes = request.nodeId ? undefined : waiting.holds.avoiding(request);
  const placeable = { ...request, gpu, avoidNodes };
  if (competesWithQueue(waiting.keys, placeable)) {
    const why = 'others wait for the same resources';
    return { kind: 'queue', reservedGpus: smallest(gpu), why, pinnedNodeId };
  }
  const decision = await chooseAndLockNode(tx, cluster.free, placeable, new Set());
  if (!decision) return { kind: 'queue', reservedGpus: smallest(gpu), why: 'nothing fits now', pinnedNodeId };
  await bindVolumes(tx, workspaceId, mounts, decision.nodeId);
  return { kind: 'place', decision };
}

/** The request limited to its volumes' node; a resumed kernel's own node must be that node. */
export function pinToVolumes(request: PlacementRequest, home: Home | null): PlacementRequest {
  if (home === null) return request;
  if (request.nodeId && request.nodeId !== home.nodeId) {
    throw new DomainError(
      'CONFLICT',
      `This kernel's checkpoint is on node ${request.nodeId} but the node ${home.because.replace(/^which /, 'that ')} is ${home.nodeId}; start it afresh`,
    );
  }
  return { ...request, nodeId: home.nodeId, pinnedBecause: home.because };
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

/** What queued requests compete for (their queue keys), and the nodes pinned ones wait for. */
async function queuedWants(tx: Tx): Promise<{ keys: Set<string>; holds: NodeHolds }> {
  const waiting = await tx.$queryRaw<{ gpuRequest: string[]; pinnedNodeId: string | null }[]>`
    SELECT DISTINCT "gpuRequest", "pinnedNodeId" FROM "Container" WHERE state = 'queued'`;
  const keys = new Set<string>();
  const holds = new NodeHolds();
  for (const row of waiting) {
    for (const key of queueKeys({ gpu: row.gpuRequest.map(parseGpuString), pinnedNodeId: row.pinnedNodeId }))
      keys.add(key);
    if (row.pinnedNodeId) holds.hold(row.pinnedNodeId, { gpu: row.gpuRequest.map(parseGpuString) });
  }
  return { keys, holds };
}

/**
 * Whether a queued request wants what this one wants: then this one queues behind it rather than
 * overtaking it, and the queue's fair order decides.
 */
function competesWithQueue(waiting: Set<string>, request: PlacementRequest): boolean {
  return queueKeys(request).some((key) => waiting.has(key));
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

import { DomainError, isDomainError, isUuid } from '@kiln/core';
import { describeWant } from '../policy/fair-queue.ts';
import { feasibleChoices, isFeasible, unsatisfiableError } from '../policy/feasibility.ts';
import {
  checkContainerCount,
  checkContainerSize,
  gpuCountsWithinLimit,
  gpuQuotaError,
} from '../policy/limits.ts';
import { place } from '../policy/place.ts';
import { parseResourceRequest } from '../resource-request.ts';
import { pinToVolumes } from './admit.ts';
import { loadCluster } from './capacity.ts';
import type { StoreContext } from './context.ts';
import { volumeHome } from './volumes.ts';
import { workspaceUsage } from './workspaces.ts';

/** What would happen to a request now, without making it: the machine picker's answer per choice. */
export type Assessment =
  | { verdict: 'now'; reason: null }
  | { verdict: 'queue'; reason: string }
  | { verdict: 'refused'; reason: string; error: DomainError };

/**
 * The same checks as a request (plan, operator maximums, what any node could hold, the GPU limit, the
 * node holding `volumes` and /workspace), read without locks, then whether some node has room now. A snapshot: `request` decides for real.
 */
export async function assess(
  ctx: StoreContext,
  workspaceId: string,
  resources: unknown,
  options: { volumes?: readonly string[]; mountsWorkspace?: boolean } = {},
): Promise<Assessment> {
  if (!isUuid(workspaceId)) throw new DomainError('NOT_FOUND', `No workspace ${workspaceId}`);
  const workspace = await ctx.db.workspace.findUnique({ where: { id: workspaceId }, select: { plan: true } });
  if (!workspace) throw new DomainError('NOT_FOUND', `No workspace ${workspaceId}`);
  try {
    const parsed = parseResourceRequest(resources);
    checkContainerSize(workspace.plan, ctx.plans, ctx.operator, parsed);
    const usage = await workspaceUsage(ctx.db, workspaceId);
    checkContainerCount(workspace.plan, ctx.plans, usage);
    const mounts = { volumeIds: options.volumes ?? [], workspace: options.mountsWorkspace ?? false };
    const request = pinToVolumes(parsed, await volumeHome(ctx.db, workspaceId, mounts));
    const cluster = await loadCluster(ctx.db);
    if (cluster.sizes.length === 0) return { verdict: 'queue', reason: 'no machine is online' };
    if (!isFeasible(cluster.sizes, request)) throw unsatisfiableError(cluster.sizes, request);
    const feasible = feasibleChoices(cluster.sizes, request);
    const allowed = new Set(
      gpuCountsWithinLimit(
        workspace.plan,
        ctx.plans,
        usage.gpus,
        feasible.map((choice) => choice.count),
      ),
    );
    const gpu = feasible.filter((choice) => allowed.has(choice.count));
    if (request.gpu.length > 0 && gpu.length === 0) {
      throw gpuQuotaError(workspace.plan, ctx.plans, usage.gpus, Math.min(...feasible.map((c) => c.count)));
    }
    if (place(cluster.free, { ...request, gpu })) return { verdict: 'now', reason: null };
    const where = request.nodeId
      ? ` on node ${request.nodeId}, ${request.pinnedBecause ?? 'which holds its volumes'}`
      : '';
    return {
      verdict: 'queue',
      reason: `would wait for ${describeWant({ ...request, gpu })}${where}: all in use`,
    };
  } catch (error) {
    if (!isDomainError(error)) throw error;
    return { verdict: 'refused', reason: error.message, error };
  }
}

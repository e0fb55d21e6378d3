import { DomainError } from '@kiln/core';
import type { Db } from '@kiln/db';
import { periodOf } from '../ledger/period.ts';
import type { PlanTier } from '../plan-tier.ts';
import { PLANS, type PlanLimits } from '../plans.ts';
import { ensurePlanCredits } from './credits.ts';

/** What a workspace holds now, against which a new plan's limits are checked. */
export interface PlanUsage {
  containers: number;
  gpus: number;
  webEndpoints: number;
  crons: number;
  seats: number;
}

const NAMES: Record<PlanTier, string> = { STARTER: 'Starter', TEAM: 'Team', ENTERPRISE: 'Enterprise' };

/** What must stop first for `limits` to hold, in words; empty when the change can apply now. */
export function planChangeBlockers(tier: PlanTier, limits: PlanLimits, used: PlanUsage): string[] {
  const name = NAMES[tier];
  const over = (max: number | null, n: number) => max !== null && n > max;
  const blockers: string[] = [];
  if (over(limits.maxContainers, used.containers))
    blockers.push(
      `Stop ${used.containers - (limits.maxContainers ?? 0)} of ${used.containers} running containers (${name} allows ${limits.maxContainers}).`,
    );
  if (over(limits.gpuConcurrency, used.gpus))
    blockers.push(
      `Release ${used.gpus - (limits.gpuConcurrency ?? 0)} of ${used.gpus} GPUs in use (${name} allows ${limits.gpuConcurrency}).`,
    );
  if (over(limits.webEndpoints, used.webEndpoints))
    blockers.push(
      `Delete ${used.webEndpoints - (limits.webEndpoints ?? 0)} of ${used.webEndpoints} web endpoints (${name} allows ${limits.webEndpoints}).`,
    );
  if (over(limits.crons, used.crons))
    blockers.push(
      `Remove ${used.crons - (limits.crons ?? 0)} of ${used.crons} cron schedules (${name} allows ${limits.crons}).`,
    );
  if (over(limits.seats, used.seats))
    blockers.push(
      `Remove ${used.seats - (limits.seats ?? 0)} of ${used.seats} members (${name} allows ${limits.seats} seats).`,
    );
  return blockers;
}

/**
 * Moves a workspace to `tier` at once: limits apply from the next request, and an upgrade tops up this
 * period's credits. A downgrade that would break a limit is refused with what must stop first.
 */
export async function changePlan(
  db: Db,
  workspaceId: string,
  tier: PlanTier,
  used: PlanUsage,
  options: { plans?: Record<PlanTier, PlanLimits>; now?: Date } = {},
): Promise<void> {
  const plans = options.plans ?? PLANS;
  const current = await db.workspace.findUniqueOrThrow({
    where: { id: workspaceId },
    select: { plan: true },
  });
  if (current.plan === tier) return;
  const blockers = planChangeBlockers(tier, plans[tier], used);
  if (blockers.length > 0)
    throw new DomainError('CONFLICT', `Cannot move to ${NAMES[tier]} yet. ${blockers.join(' ')}`, {
      blockers,
    });
  await db.workspace.update({ where: { id: workspaceId }, data: { plan: tier } });
  await ensurePlanCredits(db, workspaceId, tier, plans[tier], periodOf(options.now ?? new Date()));
}

/** What a workspace holds now: live containers, GPUs held, members. Endpoints and crons come later. */
export async function currentPlanUsage(db: Db, workspaceId: string): Promise<PlanUsage> {
  const [containers, seats] = await Promise.all([
    db.container.findMany({
      where: { workspaceId, state: { in: ['queued', 'starting', 'running'] } },
      select: { gpuIndices: true, reservedGpus: true },
    }),
    db.membership.count({ where: { workspaceId } }),
  ]);
  const gpus = containers.reduce((sum, row) => sum + Math.max(row.gpuIndices.length, row.reservedGpus), 0);
  return { containers: containers.length, gpus, webEndpoints: 0, crons: 0, seats };
}

import type { Db } from '@kiln/db';
import type { Period } from '../ledger/period.ts';
import type { PlanTier } from '../plan-tier.ts';
import type { PlanLimits } from '../plans.ts';

/**
 * Makes sure a workspace holds its plan's monthly credits for `period`, expiring at its end. Ids are
 * deterministic per workspace, period and tier, so calling it from every request, from a webhook and
 * from a retry grants once; an upgrade mid-period tops the credits up to the new plan's amount.
 */
export async function ensurePlanCredits(
  db: Db,
  workspaceId: string,
  tier: PlanTier,
  limits: PlanLimits,
  period: Period,
): Promise<void> {
  const target = BigInt(limits.monthlyCreditCents ?? 0) * 10_000n;
  if (target === 0n) return;
  const id = `plan:${workspaceId}:${period.key}:${tier}`;
  if (await db.creditGrant.findUnique({ where: { id }, select: { id: true } })) return;
  const existing = await db.creditGrant.aggregate({
    _sum: { amountMicros: true },
    where: { workspaceId, source: 'plan', effectiveAt: { gte: period.start, lt: period.end } },
  });
  const topUp = target - (existing._sum.amountMicros ?? 0n);
  if (topUp <= 0n) return;
  await db.creditGrant.createMany({
    data: [
      {
        id,
        workspaceId,
        amountMicros: topUp,
        source: 'plan',
        note: `${tier[0]}${tier.slice(1).toLowerCase()} monthly credits`,
        effectiveAt: period.start,
        expiresAt: period.end,
      },
    ],
    skipDuplicates: true,
  });
}

/** An operator's grant of extra credits for the rest of `period`. `id` makes a retried grant count once. */
export async function grantCredits(
  db: Db,
  input: {
    id: string;
    workspaceId: string;
    amountMicros: bigint;
    note: string;
    period: Period;
    source?: string;
  },
): Promise<boolean> {
  if (input.amountMicros <= 0n) throw new RangeError('a grant must be more than zero');
  const created = await db.creditGrant.createMany({
    data: [
      {
        id: input.id,
        workspaceId: input.workspaceId,
        amountMicros: input.amountMicros,
        source: input.source ?? 'operator',
        note: input.note,
        effectiveAt: input.period.start,
        expiresAt: input.period.end,
      },
    ],
    skipDuplicates: true,
  });
  return created.count === 1;
}

/** Micro-dollars of credits a workspace may spend on usage of `period`. */
export async function creditsFor(db: Db, workspaceId: string, period: Period): Promise<bigint> {
  const sum = await db.creditGrant.aggregate({
    _sum: { amountMicros: true },
    where: { workspaceId, effectiveAt: { lt: period.end }, expiresAt: { gt: period.start } },
  });
  return sum._sum.amountMicros ?? 0n;
}

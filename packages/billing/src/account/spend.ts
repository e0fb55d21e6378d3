import type { Db } from '@kiln/db';
import { type Period, periodOf } from '../ledger/period.ts';
import { type ResourceCost, windowCost } from '../ledger/usage-queries.ts';
import type { PlanTier } from '../plan-tier.ts';
import { PLANS, type PlanLimits } from '../plans.ts';
import { creditsFor, ensurePlanCredits } from './credits.ts';
import { formatMicros } from './money.ts';

export type StopCode = 'CREDITS_EXHAUSTED' | 'BUDGET_CAP' | 'PAST_DUE';

/** Whether a workspace may start or keep running work, and if not, why in words a user can act on. */
export type SpendCheck = { allowed: true } | { allowed: false; code: StopCode; message: string };

export interface SpendSummary {
  plan: PlanTier;
  period: Period;
  usage: ResourceCost;
  creditMicros: bigint;
  /** Credits left; negative once usage runs past them (billed as overage when a card is on file). */
  balanceMicros: bigint;
  /** Usage by the end of the period at the rate so far. */
  projectedMicros: bigint;
  hasPaymentMethod: boolean;
  pastDue: boolean;
  budget: { amountMicros: bigint; hardCap: boolean } | null;
  check: SpendCheck;
}

/** The live spend of a workspace this period, computed from Kiln's ledger (never read from Stripe). */
export async function spendSummary(
  db: Db,
  workspaceId: string,
  options: { now?: Date; plans?: Record<PlanTier, PlanLimits> } = {},
): Promise<SpendSummary> {
  const plans = options.plans ?? PLANS;
  const [workspace, account, budget, clock] = await Promise.all([
    db.workspace.findUniqueOrThrow({ where: { id: workspaceId }, select: { plan: true } }),
    db.billingAccount.findUnique({ where: { workspaceId } }),
    db.budget.findUnique({ where: { workspaceId } }),
    options.now ? Promise.resolve(options.now) : dbNow(db),
  ]);
  const now = clock;
  const period = periodOf(now);
  await ensurePlanCredits(db, workspaceId, workspace.plan, plans[workspace.plan], period);
  const [usage, creditMicros] = await Promise.all([
    windowCost(db, workspaceId, { from: period.start, to: period.end, now }),
    creditsFor(db, workspaceId, period),
  ]);
  const elapsed = BigInt(Math.max(1, now.getTime() - period.start.getTime()));
  const length = BigInt(period.end.getTime() - period.start.getTime());
  const summary: Omit<SpendSummary, 'check'> = {
    plan: workspace.plan,
    period,
    usage,
    creditMicros,
    balanceMicros: creditMicros - usage.total,
    projectedMicros: (usage.total * length) / elapsed,
    hasPaymentMethod: account?.hasPaymentMethod ?? false,
    pastDue: account?.pastDue ?? false,
    budget: budget ? { amountMicros: budget.amountMicros, hardCap: budget.hardCap } : null,
  };
  return { ...summary, check: decide(summary, period) };
}

function decide(summary: Omit<SpendSummary, 'check'>, period: Period): SpendCheck {
  const renews = period.end.toISOString().slice(0, 10);
  if (summary.plan === 'STARTER' && !summary.hasPaymentMethod && summary.balanceMicros <= 0n) {
    return {
      allowed: false,
      code: 'CREDITS_EXHAUSTED',
      message: `This workspace has used its ${formatMicros(summary.creditMicros)} of Starter credits for this month. Kernels are paused with their variables kept; upgrade to Team or add a payment method to continue, or wait until credits renew on ${renews}.`,
    };
  }
  if (summary.budget?.hardCap && summary.usage.total >= summary.budget.amountMicros) {
    return {
      allowed: false,
      code: 'BUDGET_CAP',
      message: `This workspace reached its monthly budget of ${formatMicros(summary.budget.amountMicros)}, which is a hard cap. Kernels are paused with their variables kept; an admin can raise the budget on the Usage page.`,
    };
  }
  if (summary.pastDue) {
    return {
      allowed: false,
      code: 'PAST_DUE',
      message:
        'The last invoice of this workspace could not be paid. An admin can update the payment method in the billing portal to start kernels again.',
    };
  }
  return { allowed: true };
}

async function dbNow(db: Db): Promise<Date> {
  const [row] = await db.$queryRaw<{ now: Date }[]>`SELECT clock_timestamp() AS now`;
  return row?.now ?? new Date();
}

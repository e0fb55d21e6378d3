import type { Db } from '@kiln/db';
import { invoiceFor } from '../ledger/invoice.ts';
import { periodOf } from '../ledger/period.ts';
import { costBy, dailyCost, type ResourceCost, windowCost } from '../ledger/usage-queries.ts';
import type { PlanTier } from '../plan-tier.ts';
import { PLANS, type PlanLimits } from '../plans.ts';
import { femtoToMicros } from '../price-book.ts';
import { type BillingAlertView, listAlerts } from './alerts.ts';
import { type SpendCheck, spendSummary } from './spend.ts';

/** Micro-dollars as plain numbers for the client (exact below $9 billion). */
export interface CostView {
  gpu: number;
  cpu: number;
  memory: number;
  total: number;
}

export interface RunningView {
  containerId: string;
  ownerId: string;
  memberId: string | null;
  gpu: string | null;
  startAt: string;
  /** Micro-dollars per hour, and spent since the slice began. */
  ratePerHourMicros: number;
  costMicros: number;
}

export interface UsageReport {
  scope: 'workspace' | 'member';
  plan: PlanTier;
  limits: PlanLimits;
  period: { key: string; start: string; end: string };
  now: string;
  usage: CostView;
  creditMicros: number;
  balanceMicros: number;
  projectedMicros: number;
  hasPaymentMethod: boolean;
  check: SpendCheck;
  budget: { amountMicros: number; hardCap: boolean } | null;
  daily: (CostView & { day: string })[];
  byNotebook: (CostView & { key: string | null; seconds: number })[];
  byMember: (CostView & { key: string | null; seconds: number })[];
  running: RunningView[];
  alerts: (Omit<BillingAlertView, 'createdAt'> & { createdAt: string })[];
  invoice: {
    lines: { key: string; description: string; quantity: number; unit: string; amountCents: number }[];
    usageCents: number;
    baseCents: number;
    creditsAppliedCents: number;
    totalCents: number;
  };
}

const view = (cost: ResourceCost): CostView => ({
  gpu: Number(cost.gpu),
  cpu: Number(cost.cpu),
  memory: Number(cost.memory),
  total: Number(cost.total),
});

/**
 * Everything the usage page shows for this period, from the same ledger sums as the invoice. With
 * `memberId` it is that member's own usage (what members who cannot manage billing see).
 */
export async function usageReport(
  db: Db,
  workspaceId: string,
  options: { memberId?: string; now?: Date; plans?: Record<PlanTier, PlanLimits> } = {},
): Promise<UsageReport> {
  const plans = options.plans ?? PLANS;
  const now = options.now ?? new Date();
  const summary = await spendSummary(db, workspaceId, { now, plans });
  const period = periodOf(now);
  const window = { from: period.start, to: period.end, now };
  const member = options.memberId;
  const [daily, byNotebook, byMember, usage, running, alerts, invoice] = await Promise.all([
    dailyCost(db, workspaceId, window, member),
    costBy(db, workspaceId, window, 'owner', member),
    costBy(db, workspaceId, window, 'member', member),
    member ? windowCost(db, workspaceId, window, member) : summary.usage,
    runningCosts(db, workspaceId, now, member),
    member ? Promise.resolve([]) : listAlerts(db, workspaceId),
    invoiceFor(db, workspaceId, period, {
      baseCents: plans[summary.plan].monthlyBaseCents ?? 0,
      creditMicros: summary.creditMicros,
      now,
    }),
  ]);
  return {
    scope: member ? 'member' : 'workspace',
    plan: summary.plan,
    limits: plans[summary.plan],
    period: { key: period.key, start: period.start.toISOString(), end: period.end.toISOString() },
    now: now.toISOString(),
    usage: view(usage),
    creditMicros: Number(summary.creditMicros),
    balanceMicros: Number(summary.balanceMicros),
    projectedMicros: Number(summary.projectedMicros),
    hasPaymentMethod: summary.hasPaymentMethod,
    check: summary.check,
    budget: summary.budget
      ? { amountMicros: Number(summary.budget.amountMicros), hardCap: summary.budget.hardCap }
      : null,
    daily: daily.map((day) => ({ day: day.day, ...view(day) })),
    byNotebook: byNotebook.map((row) => ({ key: row.key, seconds: row.seconds, ...view(row) })),
    byMember: byMember.map((row) => ({ key: row.key, seconds: row.seconds, ...view(row) })),
    running,
    alerts: alerts.map((alert) => ({ ...alert, createdAt: alert.createdAt.toISOString() })),
    invoice: member
      ? { lines: [], usageCents: 0, baseCents: 0, creditsAppliedCents: 0, totalCents: 0 }
      : {
          lines: invoice.lines,
          usageCents: invoice.usageCents,
          baseCents: invoice.baseCents,
          creditsAppliedCents: invoice.creditsAppliedCents,
          totalCents: invoice.totalCents,
        },
  };
}

/** Open slices: what each running container costs per hour and has cost since it began running. */
export async function runningCosts(
  db: Db,
  workspaceId: string,
  now: Date,
  memberId?: string,
): Promise<RunningView[]> {
  const slices = await db.usageSlice.findMany({
    where: { workspaceId, endAt: null, ...(memberId ? { memberId } : {}) },
    orderBy: { startAt: 'asc' },
  });
  return slices.map((slice) => {
    const rate = slice.gpuRateFemto + slice.cpuRateFemto + slice.memRateFemto;
    const ms = BigInt(Math.max(0, now.getTime() - slice.startAt.getTime()));
    return {
      containerId: slice.containerId,
      ownerId: slice.ownerId,
      memberId: slice.memberId,
      gpu: slice.gpuType ? `${slice.gpuType}${slice.gpuCount > 1 ? `:${slice.gpuCount}` : ''}` : null,
      startAt: slice.startAt.toISOString(),
      ratePerHourMicros: Number(femtoToMicros(rate * 3_600_000n)),
      costMicros: Number(femtoToMicros(rate * ms)),
    };
  });
}

/** The period's daily cost as CSV (the page's chart and totals, for a spreadsheet). */
export function reportCsv(report: UsageReport): string {
  const dollars = (micros: number) => (micros / 1e6).toFixed(6);
  const lines = ['date,gpu_usd,cpu_usd,memory_usd,total_usd'];
  for (const day of report.daily)
    lines.push(
      [day.day, dollars(day.gpu), dollars(day.cpu), dollars(day.memory), dollars(day.total)].join(','),
    );
  lines.push(
    [
      'total',
      dollars(report.usage.gpu),
      dollars(report.usage.cpu),
      dollars(report.usage.memory),
      dollars(report.usage.total),
    ].join(','),
  );
  return `${lines.join('\n')}\n`;
}

import type { Db } from '@kiln/db';
import { formatMicros } from './money.ts';
import type { SpendSummary } from './spend.ts';

export interface BillingAlertView {
  id: string;
  workspaceId: string;
  kind: 'budget_80' | 'budget_100' | 'credits_exhausted' | 'usage_rejected' | 'reconciliation';
  message: string;
  createdAt: Date;
}

/** Sends an alert by email; given only when SMTP is configured. Throwing leaves it for the next pass. */
export type AlertNotifier = (alert: BillingAlertView) => Promise<void>;

/**
 * Raises the budget (80 %, 100 %) and credit alerts a summary calls for, once per period each: the id
 * names workspace, kind and period, so every process may run this without sending an alert twice.
 */
export async function raiseSpendAlerts(
  db: Db,
  workspaceId: string,
  summary: SpendSummary,
  notify?: AlertNotifier,
): Promise<BillingAlertView[]> {
  const wanted: Omit<BillingAlertView, 'createdAt' | 'workspaceId'>[] = [];
  const key = summary.period.key;
  const used = summary.usage.total;
  if (summary.budget && summary.budget.amountMicros > 0n) {
    const budget = formatMicros(summary.budget.amountMicros);
    if (used * 10n >= summary.budget.amountMicros * 8n)
      wanted.push({
        id: `budget_80:${workspaceId}:${key}`,
        kind: 'budget_80',
        message: `Usage this month (${formatMicros(used)}) passed 80 % of the ${budget} budget.`,
      });
    if (used >= summary.budget.amountMicros)
      wanted.push({
        id: `budget_100:${workspaceId}:${key}`,
        kind: 'budget_100',
        message: `Usage this month (${formatMicros(used)}) reached the ${budget} budget${summary.budget.hardCap ? '; kernels are paused (hard cap)' : ''}.`,
      });
  }
  if (!summary.check.allowed && summary.check.code === 'CREDITS_EXHAUSTED')
    wanted.push({
      id: `credits_exhausted:${workspaceId}:${key}`,
      kind: 'credits_exhausted',
      message: summary.check.message,
    });
  const raised: BillingAlertView[] = [];
  for (const alert of wanted) {
    const alertRaised = await raiseAlert(db, { ...alert, workspaceId }, notify);
    if (alertRaised) raised.push(alertRaised);
  }
  return raised;
}

/** Inserts one alert unless its id exists; returns it when this call raised it. */
export async function raiseAlert(
  db: Db,
  alert: Omit<BillingAlertView, 'createdAt'>,
  notify?: AlertNotifier,
): Promise<BillingAlertView | null> {
  const created = await db.billingAlert.createMany({ data: [alert], skipDuplicates: true });
  if (created.count === 0) return null;
  const row = await db.billingAlert.findUniqueOrThrow({ where: { id: alert.id } });
  const view = { ...alert, createdAt: row.createdAt };
  if (notify) {
    await notify(view);
    await db.billingAlert.update({ where: { id: alert.id }, data: { emailedAt: new Date() } });
  }
  return view;
}

/** A workspace's alerts, newest first. */
export async function listAlerts(db: Db, workspaceId: string, limit = 50): Promise<BillingAlertView[]> {
  const rows = await db.billingAlert.findMany({
    where: { workspaceId },
    orderBy: { createdAt: 'desc' },
    take: limit,
  });
  return rows.map((row) => ({
    id: row.id,
    workspaceId: row.workspaceId,
    kind: row.kind as BillingAlertView['kind'],
    message: row.message,
    createdAt: row.createdAt,
  }));
}

/** Sets or clears (null) a workspace's monthly budget. */
export async function setBudget(
  db: Db,
  workspaceId: string,
  budget: { amountMicros: bigint; hardCap: boolean } | null,
): Promise<void> {
  if (budget === null) {
    await db.budget.deleteMany({ where: { workspaceId } });
    return;
  }
  if (budget.amountMicros <= 0n) throw new RangeError('a budget must be more than zero');
  await db.budget.upsert({
    where: { workspaceId },
    create: { workspaceId, ...budget, updatedAt: new Date() },
    update: { ...budget, updatedAt: new Date() },
  });
}

import type { Db } from '@kiln/db';
import type { PlanTier } from '../plan-tier.ts';
import type { PlanLimits } from '../plans.ts';
import { type AlertNotifier, raiseSpendAlerts } from './alerts.ts';
import { type SpendCheck, spendSummary } from './spend.ts';

export interface EnforceOptions {
  db: Db;
  /** Hibernates a running container (variables kept), telling its users `reason`. */
  hibernate: (containerId: string, reason: string) => Promise<void>;
  notify?: AlertNotifier;
  /** A container that could not be hibernated; the pass goes on with the others. */
  onHibernateFailed?: (containerId: string, error: unknown) => void;
  plans?: Record<PlanTier, PlanLimits>;
  now?: Date;
}

export interface Enforcement {
  workspaceId: string;
  check: SpendCheck;
  hibernated: string[];
}

/**
 * One pass over every workspace with running containers: raises due alerts and hibernates the running
 * containers of workspaces past their credits or hard cap. Safe to run from several processes.
 */
export async function enforceCaps(options: EnforceOptions): Promise<Enforcement[]> {
  const { db } = options;
  const running = await db.container.findMany({
    where: { state: 'running' },
    select: { id: true, workspaceId: true },
  });
  const byWorkspace = new Map<string, string[]>();
  for (const row of running)
    byWorkspace.set(row.workspaceId, [...(byWorkspace.get(row.workspaceId) ?? []), row.id]);
  const results: Enforcement[] = [];
  for (const [workspaceId, containers] of byWorkspace) {
    const summary = await spendSummary(db, workspaceId, { now: options.now, plans: options.plans });
    await raiseSpendAlerts(db, workspaceId, summary, options.notify);
    const hibernated: string[] = [];
    if (!summary.check.allowed) {
      for (const id of containers) {
        try {
          await options.hibernate(id, summary.check.message);
          hibernated.push(id);
        } catch (error) {
          options.onHibernateFailed?.(id, error);
        }
      }
    }
    results.push({ workspaceId, check: summary.check, hibernated });
  }
  return results;
}

/** The check the kernel start path makes before asking the scheduler for a container. */
export async function checkSpend(
  db: Db,
  workspaceId: string,
  options: { plans?: Record<PlanTier, PlanLimits>; now?: Date } = {},
): Promise<SpendCheck> {
  return (await spendSummary(db, workspaceId, options)).check;
}

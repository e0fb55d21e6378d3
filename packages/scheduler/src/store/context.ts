import type { PlanTier } from '@kiln/billing';
import type { Db } from '@kiln/db';
import type { OperatorMaximums, SchedulerPlanLimits } from '../policy/limits.ts';

/** What the store functions need from the scheduler's resolved options. */
export interface StoreContext {
  db: Db;
  plans: Record<PlanTier, SchedulerPlanLimits>;
  operator: OperatorMaximums;
  queueTimeoutMs: number;
  heartbeatTimeoutMs: number;
  transactionTimeoutMs: number;
}

import type { PlanTier } from '@kiln/billing';
import type { Db } from '@kiln/db';
import type { SchedulerPlanLimits } from './policy/limits.ts';
import type { ContainerTransition } from './types.ts';

export interface SchedulerOptions {
  db: Db;
  /** Per-plan overrides over `PLANS` from @kiln/billing; Enterprise limits are the operator's to set here. */
  plans: Partial<Record<PlanTier, Partial<SchedulerPlanLimits>>>;
  /** The operator's ceiling on one container, whatever the plan. */
  maxCpuPerContainer: number;
  maxMemoryMiBPerContainer: number;
  /** A node silent this long is marked lost, and its containers with it. */
  heartbeatTimeoutMs: number;
  /**
   * How long a lost container may wait for its node to come back with it (a gateway restart slower than
   * the heartbeat timeout) before it is given up (stopped).
   */
  lostGiveUpMs: number;
  /** How long a request may wait in the queue, unless it says otherwise. */
  queueTimeoutMs: number;
  /** How often `waitForPlacement` looks at the database for changes made by other processes. */
  pollIntervalMs: number;
  transactionTimeoutMs: number;
  /** Called after commit, in order per container, for each state change this process made. */
  onTransition?: (transition: ContainerTransition) => void | Promise<void>;
  /** Receives errors of hooks and of background queue passes, which have no caller to throw to. */
  onError: (error: unknown) => void;
}

export const DEFAULT_SCHEDULER_OPTIONS: Omit<SchedulerOptions, 'db'> = {
  plans: {},
  maxCpuPerContainer: 64,
  maxMemoryMiBPerContainer: 256 * 1024,
  heartbeatTimeoutMs: 30_000,
  lostGiveUpMs: 900_000,
  queueTimeoutMs: 15 * 60_000,
  pollIntervalMs: 500,
  transactionTimeoutMs: 15_000,
  onError: (error) => console.error('kiln scheduler:', error),
};

import type { Db } from '@kiln/db';
import { createScheduler, type Scheduler, type SchedulerOptions } from '@kiln/scheduler';
import type { Env } from '../env.ts';

export interface WebScheduler {
  scheduler: Scheduler;
  close(): Promise<void>;
}

/**
 * The scheduler of this web process, with the operator's settings, and its housekeeping on an interval:
 * silent nodes marked lost (their kernels told why), queue timeouts, queue passes. Safe in many processes.
 */
export function createWebScheduler(
  db: Db,
  settings: Env['scheduler'],
  onKernelLost: (notebookId: string, kernelId: string, reason: string) => void,
): WebScheduler {
  const enterprise: NonNullable<SchedulerOptions['plans']['ENTERPRISE']> = {};
  if (settings.enterprise.maxContainers !== null)
    enterprise.maxContainers = settings.enterprise.maxContainers;
  if (settings.enterprise.gpuConcurrency !== null)
    enterprise.gpuConcurrency = settings.enterprise.gpuConcurrency;
  const scheduler = createScheduler({
    db,
    plans: { ENTERPRISE: enterprise },
    queueTimeoutMs: settings.queueTimeoutMs,
    heartbeatTimeoutMs: settings.heartbeatTimeoutMs,
    lostGiveUpMs: settings.lostGiveUpMs,
    maxCpuPerContainer: settings.maxCpuPerContainer,
    maxMemoryMiBPerContainer: settings.maxMemoryMiBPerContainer,
    onTransition: (transition) => {
      if (transition.to === 'lost' && transition.kind === 'kernel') {
        onKernelLost(transition.ownerId, transition.containerId, transition.reason ?? 'The kernel was lost');
      }
    },
  });
  // A few passes per heartbeat timeout, so a lost node is noticed soon after it went silent.
  const every = Math.max(500, Math.min(5000, settings.heartbeatTimeoutMs / 3));
  let running: Promise<void> | null = null;
  const timer = setInterval(() => {
    running ??= scheduler
      .tick()
      .catch((error: unknown) => console.error('[scheduler] housekeeping failed', error))
      .finally(() => {
        running = null;
      });
  }, every);
  timer.unref();
  return {
    scheduler,
    async close() {
      clearInterval(timer);
      await running;
      await scheduler.close();
    },
  };
}

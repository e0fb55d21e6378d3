import { containerRunCost } from '@kiln/billing';
import type { CollabServer } from '@kiln/collab';
import type { Db } from '@kiln/db';
import {
  createExecutionService,
  createPostgresKernelStore,
  createPostgresOverflowStore,
  DEFAULT_LIMITS,
} from '@kiln/execution';
import type { Scheduler } from '@kiln/scheduler';
import { createCauseLog } from './cause-log.ts';
import type { WebNotebookServices } from './notebook-services-slot.ts';
import { createScheduledGateways } from './scheduled-gateway.ts';

/**
 * Builds the notebook services over the process's collab rooms. Execution needs the gateways' secret:
 * the scheduler places each kernel on a node, and the web app hands that node's gateway
 * workspace-scoped tokens only, so one workspace's requests can never reach another's kernels.
 */
export function createNotebookServices(
  db: Db,
  collab: CollabServer,
  gateway: { secret: string } | null,
  scheduler: Scheduler,
  /** This web process's lease id: the kernel records it writes are its own, and a restart resumes them. */
  ownerId: string,
  /** Why a recorded kernel waits for its lost machine (see `createKernelAway`), asked before resuming it. */
  kernelAway?: (kernelId: string) => Promise<string | null>,
): WebNotebookServices {
  const documents = { open: (notebookId: string) => collab.openDirectConnection(notebookId) };
  // Every room of the user, not only this workspace's: they reconnect at once, and the rooms of other
  // workspaces simply authenticate them again with unchanged rights.
  const onAccessChanged = ({ userId }: { userId: string }) => void collab.disconnectUser(userId);
  if (!gateway) return { documents, executionService: null, onAccessChanged, scheduler };
  const logCause = createCauseLog();
  const gateways = createScheduledGateways({
    scheduler,
    secret: gateway.secret,
    defaults: { cpu: 1, memoryMiB: 2048 },
  });
  const executionService = createExecutionService({
    openDocument: documents.open,
    // During an outage every status change fails to store the same way: one line per cause.
    onError: ({ error, stage }) => logCause(`execution ${stage} failed`, error),
    // In Postgres, so "download the full output" links keep working after a restart.
    overflowStore: createPostgresOverflowStore(db, {
      maxEntryBytes: DEFAULT_LIMITS.overflowEntryBytes,
      maxNotebookBytes: DEFAULT_LIMITS.overflowBytes,
    }),
    // Recorded so a restarted web process takes the running kernels over instead of losing them, keyed by
    // this process: another web process on the same database resumes only kernels whose owner's lease ran out.
    kernelStore: createPostgresKernelStore(db, { ownerId }),
    ...(kernelAway ? { kernelAway } : {}),
    gateway: gateways,
    // Kernels are scheduler containers: a cell costs what the ledger bills its container meanwhile.
    async runCost({ kernelId, startedAt, endedAt }) {
      const cost = await containerRunCost(db, kernelId, new Date(startedAt), new Date(endedAt));
      return cost
        ? { costMicros: Number(cost.costMicros), ratePerHourMicros: Number(cost.ratePerHourMicros) }
        : null;
    },
  });
  /**
   * Pauses a running kernel at a spending cap: the notebook holding it here hibernates it and shows
   * why; a kernel no notebook of this process holds (another process's) is hibernated directly, with
   * the reason, which the gateway passes to that process's notebook (it shows "Paused" and why).
   */
  async function pauseKernel(containerId: string, reason: string): Promise<void> {
    if (await executionService.pause(containerId, reason)) return;
    const view = await scheduler.get(containerId).catch(() => null);
    if (view?.state !== 'running' || view.kind !== 'kernel') return;
    await gateways(view.workspaceId, view.ownerId).hibernateKernel?.(containerId, reason);
  }
  return {
    documents,
    execution: executionService,
    executionService,
    onAccessChanged,
    scheduler,
    pauseKernel,
  };
}

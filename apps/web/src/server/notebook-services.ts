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
): WebNotebookServices {
  const documents = { open: (notebookId: string) => collab.openDirectConnection(notebookId) };
  // Every room of the user, not only this workspace's: they reconnect at once, and the rooms of other
  // workspaces simply authenticate them again with unchanged rights.
  const onAccessChanged = ({ userId }: { userId: string }) => void collab.disconnectUser(userId);
  if (!gateway) return { documents, executionService: null, onAccessChanged, scheduler };
  const logCause = createCauseLog();
  const executionService = createExecutionService({
    openDocument: documents.open,
    // During an outage every status change fails to store the same way: one line per cause.
    onError: ({ error, stage }) => logCause(`execution ${stage} failed`, error),
    // In Postgres, so "download the full output" links keep working after a restart.
    overflowStore: createPostgresOverflowStore(db, {
      maxEntryBytes: DEFAULT_LIMITS.overflowEntryBytes,
      maxNotebookBytes: DEFAULT_LIMITS.overflowBytes,
    }),
    // Recorded so a restarted web process takes the running kernels over instead of losing them; the
    // scheduler knows which node each kernel is on, so the records name the placement, not a gateway.
    kernelStore: createPostgresKernelStore(db, { gatewayUrl: 'scheduler' }),
    gateway: createScheduledGateways({
      scheduler,
      secret: gateway.secret,
      defaults: { cpu: 1, memoryMiB: 2048 },
    }),
  });
  return { documents, execution: executionService, executionService, onAccessChanged, scheduler };
}

import type { CollabServer } from '@kiln/collab';
import type { Db } from '@kiln/db';
import {
  createExecutionService,
  createPostgresKernelStore,
  createPostgresOverflowStore,
  DEFAULT_LIMITS,
} from '@kiln/execution';
import { createGatewayClient, workspaceToken } from '@kiln/kernel-gateway/client';
import { createCauseLog } from './cause-log.ts';
import type { WebNotebookServices } from './notebook-services-slot.ts';

/**
 * Builds the notebook services over the process's collab rooms. Execution needs the gateway; the
 * web app hands it workspace-scoped tokens only, so one workspace's requests can never reach
 * another's kernels even if a caller names a foreign kernel id.
 */
export function createNotebookServices(
  db: Db,
  collab: CollabServer,
  gateway: { url: string; secret: string } | null,
): WebNotebookServices {
  const documents = { open: (notebookId: string) => collab.openDirectConnection(notebookId) };
  // Every room of the user, not only this workspace's: they reconnect at once, and the rooms of other
  // workspaces simply authenticate them again with unchanged rights.
  const onAccessChanged = ({ userId }: { userId: string }) => void collab.disconnectUser(userId);
  if (!gateway) return { documents, executionService: null, onAccessChanged };
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
    // Recorded so a restarted web process takes the running kernels over instead of losing them.
    kernelStore: createPostgresKernelStore(db, { gatewayUrl: gateway.url }),
    gateway: (workspaceId) =>
      createGatewayClient({ baseUrl: gateway.url, token: workspaceToken(gateway.secret, workspaceId) }),
  });
  return { documents, execution: executionService, executionService, onAccessChanged };
}

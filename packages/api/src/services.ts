import type { DirectConnection } from '@kiln/collab';
import type { ExecutionService } from '@kiln/execution';
import type { Schedules } from '@kiln/schedules';
import type { SecretsVault } from '@kiln/secrets';
import { TRPCError } from '@trpc/server';

/** Live notebook documents; the web app passes its collab server's `openDirectConnection`. */
export interface NotebookDocuments {
  /** The live, persisted Y.Doc of a notebook; edits through `transact` reach every collaborator. */
  open(notebookId: string): Promise<DirectConnection>;
}

/**
 * The part of @kiln/execution's `ExecutionService` the API calls (the web app passes the whole
 * service); narrowing it keeps what the API depends on visible here.
 */
export type NotebookExecution = Pick<
  ExecutionService,
  'run' | 'interrupt' | 'restart' | 'shutdown' | 'answerInput' | 'complete' | 'inspect' | 'state'
>;

/** The optional services of `ContextOptions`. */
export interface NotebookServices {
  /** Live notebook documents (versions, .ipynb import/export); without it those answer PRECONDITION_FAILED. */
  documents?: NotebookDocuments;
  /** Server-side execution (run, interrupt, restart...); without it those answer PRECONDITION_FAILED. */
  execution?: NotebookExecution;
  /** Workspace secrets; without it (no KILN_SECRETS_KEY) their procedures answer PRECONDITION_FAILED. */
  secrets?: SecretsVault;
  /** Notebook schedules; without it their procedures answer PRECONDITION_FAILED. */
  schedules?: Schedules;
  /**
   * Called after a member's role changed or they left or were removed, so their live connections
   * (Yjs rooms) authenticate again with the new rights.
   */
  onAccessChanged?(change: { workspaceId: string; userId: string }): void;
}

function notAvailable(what: string): TRPCError {
  return new TRPCError({
    code: 'PRECONDITION_FAILED',
    message: `${what} is not available on this server.`,
  });
}

/** The documents service, or PRECONDITION_FAILED when this server runs without one. */
export function requireDocuments(services: NotebookServices): NotebookDocuments {
  if (!services.documents) throw notAvailable('Live notebook editing');
  return services.documents;
}

/** The execution service, or PRECONDITION_FAILED when this server runs without one. */
export function requireExecution(services: NotebookServices): NotebookExecution {
  if (!services.execution) throw notAvailable('Running code');
  return services.execution;
}

/** The secrets vault, or PRECONDITION_FAILED when this server has no secrets key. */
export function requireSecrets(services: NotebookServices): SecretsVault {
  if (!services.secrets) throw notAvailable('Secrets (set KILN_SECRETS_KEY)');
  return services.secrets;
}

/** The schedules service, or PRECONDITION_FAILED when this server runs without one. */
export function requireSchedules(services: NotebookServices): Schedules {
  if (!services.schedules) throw notAvailable('Schedules');
  return services.schedules;
}

/** Opens a notebook's live document for `use` and always lets go of it afterwards. */
export async function withDocument<T>(
  documents: NotebookDocuments,
  notebookId: string,
  use: (connection: DirectConnection) => Promise<T> | T,
): Promise<T> {
  const connection = await documents.open(notebookId);
  try {
    return await use(connection);
  } finally {
    await connection.disconnect();
  }
}

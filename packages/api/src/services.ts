import type { StripeBilling } from '@kiln/billing';
import type { DirectConnection } from '@kiln/collab';
import type { ExecutionService } from '@kiln/execution';
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
  'run' | 'interrupt' | 'restart' | 'shutdown' | 'answerInput' | 'complete' | 'inspect'
>;

/** The optional services of `ContextOptions`. */
export interface NotebookServices {
  /** Live notebook documents (versions, .ipynb import/export); without it those answer PRECONDITION_FAILED. */
  documents?: NotebookDocuments;
  /** Server-side execution (run, interrupt, restart...); without it those answer PRECONDITION_FAILED. */
  execution?: NotebookExecution;
  /** Stripe (or the local Stripe server) for Checkout and the portal; without it those answer PRECONDITION_FAILED. */
  billing?: StripeBilling;
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

/** Stripe billing, or PRECONDITION_FAILED when this server runs without it. */
export function requireBilling(services: NotebookServices): StripeBilling {
  if (!services.billing) throw notAvailable('Online payment');
  return services.billing;
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

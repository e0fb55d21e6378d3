import type { DirectConnection } from '@kiln/collab';
import { TRPCError } from '@trpc/server';

/** Live notebook documents; the web app passes its collab server's `openDirectConnection`. */
export interface NotebookDocuments {
  /** The live, persisted Y.Doc of a notebook; edits through `transact` reach every collaborator. */
  open(notebookId: string): Promise<DirectConnection>;
}

/** Which cells a run executes (the same shape as `RunTarget` in @kiln/execution). */
export type RunTarget =
  | { kind: 'cells'; cellIds: string[] }
  | { kind: 'all' }
  | { kind: 'above'; cellId: string }
  | { kind: 'below'; cellId: string };

/** Kernel resources as the gateway takes them. */
export interface KernelResources {
  cpu: number;
  memoryMiB: number;
  gpu: string | string[] | null;
}

/**
 * The part of @kiln/execution's `ExecutionService` the API calls; that service satisfies it as is.
 * Declared here so the API does not pull the kernel gateway client into its own types.
 */
export interface NotebookExecution {
  run(request: {
    notebookId: string;
    workspaceId: string;
    target: RunTarget;
    user: { userId: string; name: string };
    resources?: KernelResources;
  }): Promise<{ requestId: string; cellIds: string[] }>;
  interrupt(notebookId: string): Promise<void>;
  restart(notebookId: string): Promise<void>;
  shutdown(notebookId: string): Promise<void>;
  answerInput(notebookId: string, value: string): Promise<void>;
}

/** The optional services of `ContextOptions`. */
export interface NotebookServices {
  documents?: NotebookDocuments;
  execution?: NotebookExecution;
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

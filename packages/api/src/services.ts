import type { StripeBilling } from '@kiln/billing';
import type { DirectConnection } from '@kiln/collab';
import type { Db } from '@kiln/db';
import type { ExecutionService } from '@kiln/execution';
import { createScheduler, type Scheduler } from '@kiln/scheduler';
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
  | 'run'
  | 'interrupt'
  | 'restart'
  | 'shutdown'
  | 'answerInput'
  | 'complete'
  | 'inspect'
  | 'state'
  | 'cancelStart'
>;

/** What the API asks the scheduler: what a machine choice would get now. */
export type NotebookMachines = Pick<Scheduler, 'assess'>;

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
   * The scheduler with the operator's settings (plans, maximums); without it, one over the database
   * with Kiln's default limits, so resource choices are checked against the plan either way.
   */
  scheduler?: NotebookMachines;
  /** Stripe (or the local Stripe server) for Checkout and the portal; without it those answer PRECONDITION_FAILED. */
  billing?: StripeBilling;
  /**
   * Called after a member's role changed or they left or were removed, so their live connections
   * (Yjs rooms) authenticate again with the new rights.
   */
  onAccessChanged?(change: { workspaceId: string; userId: string }): void;
  /**
   * Called after sign-out, sign-out-everywhere or a password change ended sessions of a user, so
   * their open websockets (Yjs rooms, terminals) authenticate again and those of ended sessions stop.
   */
  onSessionsEnded?(change: { userId: string }): void;
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

const defaultSchedulers = new WeakMap<Db, NotebookMachines>();

/** The configured scheduler, or one with default settings over `db`. */
export function machinesOf(services: NotebookServices & { db: Db }): NotebookMachines {
  if (services.scheduler) return services.scheduler;
  let scheduler = defaultSchedulers.get(services.db);
  if (!scheduler) {
    scheduler = createScheduler({ db: services.db });
    defaultSchedulers.set(services.db, scheduler);
  }
  return scheduler;
}

/** Stripe billing, or PRECONDITION_FAILED when this server runs without it. */
export function requireBilling(services: NotebookServices): StripeBilling {
  if (!services.billing) throw notAvailable('Online payment');
  return services.billing;
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

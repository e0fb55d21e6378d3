import type { StripeBilling } from '@kiln/billing';
import type { DirectConnection } from '@kiln/collab';
import type { Db } from '@kiln/db';
import type { EndpointRuntime, PythonRunner } from '@kiln/endpoints';
import type { ExecutionService } from '@kiln/execution';
import { createImageStore, type ImageStore } from '@kiln/images/store';
import type { ReadIpynb } from '@kiln/notebook/ipynb-reader';
import { createScheduler, type Scheduler } from '@kiln/scheduler';
import type { Schedules } from '@kiln/schedules';
import type { SecretsVault } from '@kiln/secrets';
import type { DiskMoveInput, DiskMoveResult, Volumes } from '@kiln/volumes';
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

/** The nodes' side of volumes: their disks. */
export interface VolumeDisks {
  /**
   * Erases a deleted volume's disk now when its node is online and nothing mounts it; otherwise says
   * why it waits (it stays pending, and the web's housekeeping tries again).
   */
  reap(volumeId: string): Promise<{ erased: boolean; waiting: string | null }>;
  /**
   * Moves a named volume or /workspace to another node: copied node to node and verified before the
   * record switches; the old copy is erased now or once its node is back (see @kiln/volumes `moveDisk`).
   */
  move(input: DiskMoveInput): Promise<DiskMoveResult>;
}

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
  /** Named volumes with operator limits; without it, one over the database with the default plan limits. */
  volumes?: Volumes;
  /** Erases deleted volumes' disks on the nodes that hold them; without it they stay pending. */
  volumeDisks?: VolumeDisks;
  /** Workspace images with the gateway that builds them; without it, images are stored but cannot build. */
  images?: ImageStore;
  /** Notebook schedules; without it their procedures answer PRECONDITION_FAILED. */
  schedules?: Schedules;
  /**
   * The scheduler with the operator's settings (plans, maximums); without it, one over the database
   * with Kiln's default limits, so resource choices are checked against the plan either way.
   */
  scheduler?: NotebookMachines;
  /**
   * Web endpoints: the runtime serving and deploying them, and the sandbox dependency capture runs in;
   * without it their procedures answer PRECONDITION_FAILED.
   */
  endpoints?: EndpointServices;
  /**
   * Reads uploaded .ipynb files off the request thread (the web app's worker pool); without it an
   * import reads its file on the calling thread.
   */
  ipynbReader?: { read(text: string): Promise<ReadIpynb> };
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

/** What the endpoint procedures need from the web app. */
export interface EndpointServices {
  runtime: EndpointRuntime;
  /** Runs dependency capture's `ast` analysis in a sandbox. */
  capture: PythonRunner;
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

const defaultImageStores = new WeakMap<Db, ImageStore>();

/** The configured image store, or one over `db` with no gateway (definitions save, builds fail saying so). */
export function imagesOf(services: NotebookServices & { db: Db }): ImageStore {
  if (services.images) return services.images;
  let store = defaultImageStores.get(services.db);
  if (!store) {
    store = createImageStore({ db: services.db });
    defaultImageStores.set(services.db, store);
  }
  return store;
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

/** The endpoint services, or PRECONDITION_FAILED when this server runs without them. */
export function requireEndpoints(services: NotebookServices): EndpointServices {
  if (!services.endpoints) throw notAvailable('Web endpoints');
  return services.endpoints;
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

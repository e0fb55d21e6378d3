import type { EndpointServices, NotebookDocuments, NotebookExecution } from '@kiln/api';
import type { ExecutionService } from '@kiln/execution';
import type { ImageStore } from '@kiln/images/store';
import type { ReadIpynb } from '@kiln/notebook/ipynb-reader';
import type { Scheduler } from '@kiln/scheduler';
import type { Schedules } from '@kiln/schedules';
import type { SecretsVault } from '@kiln/secrets';

/** The live-document and execution services of this process, shared with Next's route handlers. */
export interface WebNotebookServices {
  documents: NotebookDocuments;
  execution?: NotebookExecution;
  /** Null when no kernel gateway is configured: run buttons then explain that. */
  executionService: ExecutionService | null;
  /** Null when KILN_SECRETS_KEY is unset: the secrets pages then explain that. */
  secrets?: SecretsVault;
  /** Places kernels on nodes; the machine picker asks it what each choice would get. */
  scheduler?: Scheduler;
  schedules?: Schedules;
  /** Workspace images and the gateway that builds them. */
  images?: ImageStore;
  /** Hibernates a running kernel (variables kept) at a spending cap, telling its notebook why. */
  pauseKernel?(containerId: string, reason: string): Promise<void>;
  /** Reads uploaded .ipynb files in worker threads, off the thread that answers every request. */
  ipynbReader?: { read(text: string): Promise<ReadIpynb> };
  /** Web endpoints (deploy, serve); replicas need a gateway, capture needs runsc. */
  endpoints?: EndpointServices;
  /** Makes a user's open notebook connections authenticate again (after a role change or removal). */
  onAccessChanged(change: { workspaceId: string; userId: string }): void;
  /** Makes a user's open connections authenticate again after some of their sessions ended. */
  onSessionsEnded?(change: { userId: string }): void;
}

// Next bundles route handlers apart from server.ts, so the services live in a process-wide slot.
const SERVICES_KEY = Symbol.for('kiln.web.notebook-services');
type Holder = { [SERVICES_KEY]?: WebNotebookServices };

/** Registers the process's notebook services (server.ts, once at start). */
export function setNotebookServices(services: WebNotebookServices | undefined): void {
  (globalThis as Holder)[SERVICES_KEY] = services;
}

/** The notebook services, or none when running without the custom server (e.g. route tests). */
export function getNotebookServices(): WebNotebookServices | undefined {
  return (globalThis as Holder)[SERVICES_KEY];
}

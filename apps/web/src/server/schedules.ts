import { createScheduledEndpointCall, createScheduledNotebookRun } from '@kiln/api';
import { ownerCosts } from '@kiln/billing';
import type { Db } from '@kiln/db';
import type { EndpointRuntime } from '@kiln/endpoints';
import {
  byTarget,
  createScheduleRunner,
  createSchedules,
  type ScheduleRunner,
  type Schedules,
} from '@kiln/schedules';
import type { SecretsVault } from '@kiln/secrets';
import type { WebNotebookServices } from './notebook-services-slot.ts';

/**
 * Schedules of notebooks and endpoints, and the loop that runs their ticks. Every web process runs
 * the loop; the database makes sure each tick starts once.
 */
export function createWebSchedules(
  db: Db,
  notebooks: WebNotebookServices,
  endpoints: EndpointRuntime,
  secrets: SecretsVault | undefined,
  intervalMs: number,
): { schedules: Schedules; runner: ScheduleRunner } {
  const schedules = createSchedules({
    db,
    // A notebook run's cost is what the notebook's kernel cost in the ledger while it ran.
    runCosts: async (workspaceId, notebookId, windows) =>
      (await ownerCosts(db, workspaceId, notebookId, windows)).map(Number),
  });
  const execution = notebooks.executionService;
  const runNotebook = execution
    ? createScheduledNotebookRun({ db, documents: notebooks.documents, execution, secrets })
    : async () => ({ ok: false, error: 'This Kiln runs no kernels (no kernel gateway is configured)' });
  const runner = createScheduleRunner({
    db,
    intervalMs,
    execute: byTarget({ notebook: runNotebook, endpoint: createScheduledEndpointCall(endpoints) }),
    onError: (error) => console.error('[schedules] tick failed', error),
  });
  runner.start();
  return { schedules, runner };
}

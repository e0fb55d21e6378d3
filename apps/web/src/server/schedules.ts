import { createScheduledNotebookRun } from '@kiln/api';
import type { Db } from '@kiln/db';
import { createScheduleRunner, createSchedules, type ScheduleRunner, type Schedules } from '@kiln/schedules';
import type { SecretsVault } from '@kiln/secrets';
import type { WebNotebookServices } from './notebook-services-slot.ts';

/**
 * Notebook schedules, and the loop that runs their ticks when this process can run code. Every web
 * process runs the loop; the database makes sure each tick starts once.
 */
export function createWebSchedules(
  db: Db,
  notebooks: WebNotebookServices,
  secrets: SecretsVault | undefined,
  intervalMs: number,
): { schedules: Schedules; runner: ScheduleRunner | null } {
  const schedules = createSchedules({ db });
  const execution = notebooks.executionService;
  if (!execution) return { schedules, runner: null };
  const runner = createScheduleRunner({
    db,
    intervalMs,
    execute: createScheduledNotebookRun({ db, documents: notebooks.documents, execution, secrets }),
    onError: (error) => console.error('[schedules] tick failed', error),
  });
  runner.start();
  return { schedules, runner };
}

import { saveNotebookVersion } from '@kiln/accounts';
import type { Db } from '@kiln/db';
import type { ExecutionService } from '@kiln/execution';
import { cellToJson, getCells, type OutputJson } from '@kiln/notebook';
import type { RunOutcome, ScheduledRun } from '@kiln/schedules';
import type { SecretsVault } from '@kiln/secrets';
import * as Y from 'yjs';
import { kernelSecrets } from './routers/kernel-secrets.ts';
import { kernelResources } from './routers/notebook-kernel.ts';
import { type NotebookDocuments, withDocument } from './services.ts';

export interface ScheduledRunServices {
  db: Db;
  documents: NotebookDocuments;
  execution: Pick<ExecutionService, 'run' | 'whenIdle' | 'state' | 'shutdown'>;
  secrets?: SecretsVault;
}

function outputText(output: OutputJson): string {
  if (output.output_type === 'stream') return String(output.text ?? '');
  if (output.output_type === 'error') return `${String(output.ename)}: ${String(output.evalue)}\n`;
  const data = output.data as Record<string, unknown> | undefined;
  const plain = data?.['text/plain'];
  return typeof plain === 'string' ? `${plain}\n` : '';
}

/**
 * A schedule's `execute`: "run all" on the notebook's kernel with its resources and secrets (outputs
 * masked as for a person's run), then its outputs saved as a new version. The kernel is shut down
 * afterwards when the run started it, so a schedule does not keep machines busy between ticks.
 */
export function createScheduledNotebookRun(services: ScheduledRunServices) {
  return async (run: ScheduledRun): Promise<RunOutcome> => {
    const { db, execution } = services;
    const notebook = await db.notebook.findFirst({
      where: { id: run.notebookId, workspaceId: run.workspaceId },
    });
    if (!notebook) return { ok: false, error: 'The notebook no longer exists' };
    const hadKernel = Boolean(execution.state(run.notebookId)?.kernel.kernelId);
    const secrets = await kernelSecrets(services, execution, {
      workspaceId: run.workspaceId,
      notebookId: run.notebookId,
      userId: run.createdById,
      ip: 'schedule',
    });
    try {
      await execution.run({
        notebookId: run.notebookId,
        workspaceId: run.workspaceId,
        target: { kind: 'all' },
        user: { userId: run.createdById ?? 'schedule', name: 'Schedule' },
        resources: kernelResources(notebook),
        ...secrets,
      });
      await execution.whenIdle(run.notebookId);
      const { log, errors, snapshot } = await withDocument(
        services.documents,
        run.notebookId,
        (connection) => {
          const parts: string[] = [];
          const failed: string[] = [];
          for (const cell of getCells(connection.document).toArray()) {
            const json = cellToJson(cell);
            if (json.cell_type !== 'code') continue;
            for (const output of (json.outputs ?? []) as OutputJson[]) {
              parts.push(outputText(output));
              if (output.output_type === 'error')
                failed.push(`${String(output.ename)}: ${String(output.evalue)}`);
            }
          }
          return {
            log: parts.join(''),
            errors: failed,
            snapshot: Y.encodeStateAsUpdate(connection.document),
          };
        },
      );
      const version = await saveNotebookVersion(db, {
        workspaceId: run.workspaceId,
        notebookId: run.notebookId,
        name: `Scheduled run ${run.tick.toISOString().slice(0, 16).replace('T', ' ')} UTC`,
        snapshot,
        createdById: null,
      });
      return {
        ok: errors.length === 0,
        ...(errors.length > 0 ? { error: errors[0] } : {}),
        log,
        versionId: version.id,
      };
    } finally {
      if (!hadKernel) await execution.shutdown(run.notebookId).catch(() => undefined);
    }
  };
}

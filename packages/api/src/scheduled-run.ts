import { saveNotebookVersion } from '@kiln/accounts';
import type { Db } from '@kiln/db';
import type { ExecutionService } from '@kiln/execution';
import { kernelImage } from '@kiln/images/store';
import { cellToJson, getCells, type OutputJson } from '@kiln/notebook';
import type { RunOutcome, ScheduledRunOf } from '@kiln/schedules';
import type { SecretsVault } from '@kiln/secrets';
import type { Volumes } from '@kiln/volumes';
import * as Y from 'yjs';
import { kernelSecrets } from './routers/kernel-secrets.ts';
import { kernelResources } from './routers/notebook-kernel.ts';
import { kernelVolumes } from './routers/volume.ts';
import { type NotebookDocuments, withDocument } from './services.ts';

export interface ScheduledRunServices {
  db: Db;
  documents: NotebookDocuments;
  execution: Pick<ExecutionService, 'run' | 'whenIdle' | 'state' | 'shutdown'>;
  secrets?: SecretsVault;
  volumes?: Volumes;
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
  return async (run: ScheduledRunOf<'notebook'>): Promise<RunOutcome> => {
    const { db, execution } = services;
    const { notebookId } = run.target;
    const notebook = await db.notebook.findFirst({
      where: { id: notebookId, workspaceId: run.workspaceId },
    });
    if (!notebook) return { ok: false, error: 'The notebook no longer exists' };
    const hadKernel = Boolean(execution.state(notebookId)?.kernel.kernelId);
    const secrets = await kernelSecrets(services, execution, {
      workspaceId: run.workspaceId,
      notebookId,
      userId: run.createdById,
      ip: 'schedule',
    });
    try {
      await execution.run({
        notebookId,
        workspaceId: run.workspaceId,
        target: { kind: 'all' },
        user: { userId: run.createdById ?? 'schedule', name: 'Schedule' },
        resources: kernelResources(notebook),
        ...(await kernelVolumes(services, run.workspaceId, notebookId)),
        image: hadKernel ? undefined : await kernelImage(db, run.workspaceId, notebook.imageId),
        ...secrets,
      });
      await execution.whenIdle(notebookId);
      const { log, errors, snapshot } = await withDocument(services.documents, notebookId, (connection) => {
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
      });
      const version = await saveNotebookVersion(db, {
        workspaceId: run.workspaceId,
        notebookId,
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
      if (!hadKernel) await execution.shutdown(notebookId).catch(() => undefined);
    }
  };
}

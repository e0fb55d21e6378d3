import type { CollabServer, DirectConnection } from '@kiln/collab';
import {
  createNotebookDoc,
  findCell,
  getCellOutputs,
  getCells,
  insertCell,
  type NewCell,
  type OutputJson,
} from '@kiln/notebook';
import type * as Y from 'yjs';

/** A notebook room holding `cells` (each given an id `c0`, `c1`... unless it has one), left open for the test. */
export async function seedNotebook(
  collab: CollabServer,
  notebookId: string,
  cells: (NewCell | string)[],
): Promise<DirectConnection> {
  const connection = await collab.openDirectConnection(notebookId);
  await connection.transact((doc) => {
    createNotebookDoc({ doc });
    const existing = getCells(doc);
    if (existing.length > 0) existing.delete(0, existing.length);
    cells.forEach((cell, index) => {
      const json = typeof cell === 'string' ? { cell_type: 'code', source: cell } : cell;
      insertCell(doc, { id: `c${index}`, ...json });
    });
  });
  return connection;
}

/** What a user sees of one cell. */
export function cellView(doc: Y.Doc, cellId: string) {
  const cell = findCell(doc, cellId);
  if (!cell) throw new Error(`no cell ${cellId}`);
  const outputs = getCellOutputs(cell);
  return {
    state: cell.get('execution_state') as string,
    count: cell.get('execution_count') as number | null,
    outputs,
    text: outputs.map(outputText).join(''),
  };
}

/** Stream text, or the plain-text form of rich output, or `ename: evalue` of an error. */
export function outputText(output: OutputJson): string {
  if (output.output_type === 'stream') return String(output.text);
  if (output.output_type === 'error') return `${output.ename}: ${output.evalue}`;
  const data = output.data as Record<string, unknown> | undefined;
  return String(data?.['text/plain'] ?? '');
}

/** Polls `condition` every 10 ms; fails after `timeoutMs`. */
export async function waitFor(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

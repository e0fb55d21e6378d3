import { findCell, markRunCost, markRunEnded, markRunStarted } from '@kiln/notebook';
import type * as Y from 'yjs';
import type { CellRunWindow, RunCostView } from './types.ts';

export interface RunMetadataOptions {
  workspaceId: string;
  notebookId: string;
  /** What the kernel's machine cost during a finished run; absent when nothing is priced. */
  runCost?(run: CellRunWindow): Promise<RunCostView | null>;
  /** Writes `change` into the notebook's document (the session's own transaction). */
  write(change: (doc: Y.Doc) => void): Promise<void>;
  onError(error: unknown): void;
}

/**
 * A cell run's timing and cost in the cell's run metadata, where every collaborator and the exported
 * .ipynb see them: the start and end are written in the transactions that start and end the run, the
 * cost later, once the billing hook answers (and only if the cell has not run again since).
 */
export class RunMetadataWriter {
  constructor(private readonly options: RunMetadataOptions) {}

  /** Inside the transaction that starts the run: replaces what an earlier run left. */
  started(doc: Y.Doc, cellId: string, startedAt: number): void {
    const cell = findCell(doc, cellId);
    if (cell) markRunStarted(cell, startedAt);
  }

  /** Inside the transaction that ends the run: its end and duration. */
  ended(doc: Y.Doc, cellId: string, startedAt: number, endedAt: number): void {
    const cell = findCell(doc, cellId);
    if (cell) markRunEnded(cell, startedAt, endedAt);
  }

  /** Asks what `kernelId`'s machine cost during the finished run and writes it when known. */
  price(kernelId: string | null, cellId: string, startedAt: number, endedAt: number): void {
    const { runCost, workspaceId, notebookId } = this.options;
    if (!kernelId || !runCost) return;
    void runCost({ workspaceId, notebookId, kernelId, cellId, startedAt, endedAt })
      .then((cost) => {
        if (!cost) return;
        return this.options.write((doc) => {
          const cell = findCell(doc, cellId);
          if (cell) markRunCost(cell, startedAt, cost);
        });
      })
      .catch((error: unknown) => this.options.onError(error));
  }
}

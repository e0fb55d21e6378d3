import { getCells, notebookParts } from '@kiln/notebook';
import type * as Y from 'yjs';
import type { ExecutionStateView } from './types.ts';

/** The key of the `state` map under which the execution queue is published. */
export const EXECUTION_STATE_KEY = 'execution';

/** The execution state a notebook doc shows (null if none was ever written). */
export function readExecutionState(doc: Y.Doc): ExecutionStateView | null {
  const value = notebookParts(doc).state.get(EXECUTION_STATE_KEY);
  return value && typeof value === 'object' ? (value as ExecutionStateView) : null;
}

/**
 * The key of the `state` map holding the msg_id of the last kernel message whose effects the document
 * holds: written in the same transaction as those effects, so what is stored says how far it got.
 */
export const KERNEL_MESSAGE_KEY = 'kernelMessage';

/** The msg_id of the last kernel message applied to the document (null if none). */
export function readKernelMessage(doc: Y.Doc): string | null {
  const value = notebookParts(doc).state.get(KERNEL_MESSAGE_KEY);
  return typeof value === 'string' ? value : null;
}

export function writeKernelMessage(doc: Y.Doc, msgId: string): void {
  notebookParts(doc).state.set(KERNEL_MESSAGE_KEY, msgId);
}

export function writeExecutionState(doc: Y.Doc, view: ExecutionStateView): void {
  notebookParts(doc).state.set(EXECUTION_STATE_KEY, view);
}

/**
 * Clears what a previous process left behind: cells still marked queued or running and the
 * published queue. Call it when a room loads and no execution service holds the notebook
 * (the service itself does it when it first opens a notebook).
 */
export function resetExecutionState(doc: Y.Doc): void {
  doc.transact(() => {
    for (const cell of getCells(doc)) {
      const state = cell.get('execution_state');
      if (state === 'queued' || state === 'running') cell.set('execution_state', 'idle');
    }
    const { state } = notebookParts(doc);
    if (state.has(EXECUTION_STATE_KEY)) state.delete(EXECUTION_STATE_KEY);
  });
}

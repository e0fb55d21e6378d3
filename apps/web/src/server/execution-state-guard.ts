import { EXECUTION_STATE_KEY, KERNEL_MESSAGE_KEY } from '@kiln/execution';
import { notebookParts } from '@kiln/notebook';
import type * as Y from 'yjs';

/** Keys of the notebook's `state` map that only the server writes. */
const SERVER_KEYS = [EXECUTION_STATE_KEY, KERNEL_MESSAGE_KEY];

/**
 * Keeps the published run queue (`state.execution`: who runs what, the kernel's status) and the mark of
 * the last kernel message stored (`state.kernelMessage`, which decides what the gateway replays to a
 * restarted server) writable by the server only. Editors may change the document, but a client that
 * set the queue would show collaborators a run nobody started, and one that set the mark could hide
 * output from a restarted server; such a change is put back to the server's last value.
 * `isClient(origin)` tells a client update's transaction origin from the server's own writes.
 */
export function guardExecutionState(document: Y.Doc, isClient: (origin: unknown) => boolean): void {
  const { state } = notebookParts(document);
  const trusted = new Map<string, unknown>(SERVER_KEYS.map((key) => [key, state.get(key)]));
  state.observe((event) => {
    const changed = SERVER_KEYS.filter((key) => event.keysChanged.has(key));
    if (changed.length === 0) return;
    if (!isClient(event.transaction.origin)) {
      for (const key of changed) trusted.set(key, state.get(key));
      return;
    }
    // After the client's transaction has finished, as an ordinary server write that every peer receives.
    const restore = changed.map((key) => [key, trusted.get(key)] as const);
    queueMicrotask(() =>
      document.transact(() => {
        for (const [key, value] of restore) {
          if (value === undefined) state.delete(key);
          else state.set(key, value);
        }
      }),
    );
  });
}

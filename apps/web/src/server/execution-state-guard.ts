import { EXECUTION_STATE_KEY } from '@kiln/execution';
import { notebookParts } from '@kiln/notebook';
import type * as Y from 'yjs';

/**
 * Keeps the published run queue (`state.execution`: who runs what, the kernel's status) writable by
 * the server only. Editors may change the document, but a client that sets this key would show
 * collaborators a run nobody started; such a change is put back to the server's last value.
 * `isClient(origin)` tells a client update's transaction origin from the server's own writes.
 */
export function guardExecutionState(document: Y.Doc, isClient: (origin: unknown) => boolean): void {
  const { state } = notebookParts(document);
  let trusted: unknown = state.get(EXECUTION_STATE_KEY);
  state.observe((event) => {
    if (!event.keysChanged.has(EXECUTION_STATE_KEY)) return;
    if (!isClient(event.transaction.origin)) {
      trusted = state.get(EXECUTION_STATE_KEY);
      return;
    }
    // After the client's transaction has finished, as an ordinary server write that every peer receives.
    const restore = trusted;
    queueMicrotask(() =>
      document.transact(() => {
        if (restore === undefined) state.delete(EXECUTION_STATE_KEY);
        else state.set(EXECUTION_STATE_KEY, restore);
      }),
    );
  });
}

import { saveAutoNotebookVersion } from '@kiln/accounts';
import type { NotebookDocuments } from '@kiln/api';
import type { Db } from '@kiln/db';
import * as Y from 'yjs';

export interface AutoHistoryOptions {
  db: Db;
  documents: NotebookDocuments;
  /** A version is taken once a notebook's edits have paused this long... */
  idleMs: number;
  /** ...or after this long of edits that never pause. */
  intervalMs: number;
  /** How often pending notebooks are looked at. */
  checkMs?: number;
  now?: () => number;
  onError?(error: unknown, notebookId: string): void;
}

export interface AutoHistory {
  /** Records that someone edited `notebookId` (the collab server's onChange). */
  noteEdit(notebookId: string): void;
  /** Takes the versions that are due now; the timer calls it, tests may too. */
  flush(options?: { all?: boolean }): Promise<void>;
  close(): Promise<void>;
}

interface Pending {
  firstEditAt: number;
  lastEditAt: number;
}

/**
 * Colab-style automatic history: after people edit a notebook, a version is taken once the edits
 * pause (`idleMs`) or at the latest `intervalMs` after the first unsaved edit. Automatic versions
 * sit beside named ones and are pruned to a bound; outputs written by kernels alone take none.
 */
export function createAutoHistory(options: AutoHistoryOptions): AutoHistory {
  const now = options.now ?? Date.now;
  const pending = new Map<string, Pending>();
  const inFlight = new Set<string>();
  let closed = false;

  async function take(notebookId: string): Promise<void> {
    inFlight.add(notebookId);
    try {
      const connection = await options.documents.open(notebookId);
      let snapshot: Uint8Array;
      try {
        snapshot = Y.encodeStateAsUpdate(connection.document);
      } finally {
        await connection.disconnect();
      }
      await saveAutoNotebookVersion(options.db, notebookId, snapshot);
    } catch (error) {
      options.onError?.(error, notebookId);
    } finally {
      inFlight.delete(notebookId);
    }
  }

  async function flush({ all = false } = {}): Promise<void> {
    const at = now();
    const due = [...pending.entries()].filter(
      ([id, edit]) =>
        !inFlight.has(id) &&
        (all || at - edit.lastEditAt >= options.idleMs || at - edit.firstEditAt >= options.intervalMs),
    );
    for (const [id] of due) pending.delete(id);
    await Promise.all(due.map(([id]) => take(id)));
  }

  const timer = setInterval(() => void flush(), options.checkMs ?? Math.min(5000, options.idleMs / 2));
  timer.unref();

  return {
    noteEdit(notebookId) {
      if (closed) return;
      const at = now();
      const current = pending.get(notebookId);
      pending.set(notebookId, { firstEditAt: current?.firstEditAt ?? at, lastEditAt: at });
    },
    flush,
    async close() {
      closed = true;
      clearInterval(timer);
      // Edits of the last moments still get their version before the process goes.
      await flush({ all: true });
    },
  };
}

import type * as Y from 'yjs';
import { notebookParts, type YCell } from './notebook-doc.ts';

/** Which of two copies of one cell survives: the one whose Yjs item was created first (a total order every peer agrees on). */
function itemKey(cell: YCell): [number, number] {
  const id = cell._item?.id;
  return id ? [id.client, id.clock] : [Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER];
}

function isBefore(a: YCell, b: YCell): boolean {
  const [ca, ka] = itemKey(a);
  const [cb, kb] = itemKey(b);
  return ca !== cb ? ca < cb : ka < kb;
}

/**
 * Delete every cell whose id appears more than once, keeping the copy created first. Every peer
 * makes the same choice from the same data, so concurrent moves (delete + insert of a clone on
 * two clients) converge to one cell instead of two. Returns how many cells were removed.
 */
export function repairDuplicateCells(doc: Y.Doc): number {
  const { cells } = notebookParts(doc);
  const keep = new Map<string, YCell>();
  const all = cells.toArray();
  for (const cell of all) {
    const id = cell.get('id') as string;
    const kept = keep.get(id);
    if (!kept || isBefore(cell, kept)) keep.set(id, cell);
  }
  if (keep.size === all.length) return 0;
  let removed = 0;
  doc.transact(() => {
    for (let i = cells.length - 1; i >= 0; i--) {
      const cell = cells.get(i);
      if (keep.get(cell.get('id') as string) !== cell) {
        cells.delete(i, 1);
        removed++;
      }
    }
  });
  return removed;
}

/** Run `repairDuplicateCells` after every change that inserts cells (local or remote). Returns a stop function. */
export function watchCellIdentity(doc: Y.Doc): () => void {
  const { cells } = notebookParts(doc);
  const observer = (event: Y.YArrayEvent<YCell>): void => {
    if (event.changes.added.size > 0) repairDuplicateCells(doc);
  };
  cells.observe(observer);
  repairDuplicateCells(doc);
  return () => cells.unobserve(observer);
}

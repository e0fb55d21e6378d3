import { DomainError } from '@kiln/core';
import { getCells } from '@kiln/notebook';
import type * as Y from 'yjs';
import type { RunTarget } from './types.ts';

/** The code cells a run target names, in notebook order; unknown cell ids are a NOT_FOUND. */
export function selectCells(doc: Y.Doc, target: RunTarget): string[] {
  const cells = getCells(doc)
    .toArray()
    .map((cell) => ({ id: cell.get('id') as string, code: cell.get('cell_type') === 'code' }));
  const indexOf = (id: string) => {
    const index = cells.findIndex((cell) => cell.id === id);
    if (index < 0) throw new DomainError('NOT_FOUND', `No cell with id ${id} in this notebook`);
    return index;
  };
  let chosen: typeof cells;
  switch (target.kind) {
    case 'all':
      chosen = cells;
      break;
    case 'above':
      chosen = cells.slice(0, indexOf(target.cellId));
      break;
    case 'below':
      chosen = cells.slice(indexOf(target.cellId));
      break;
    case 'cells': {
      const wanted = new Set(target.cellIds);
      for (const id of wanted) indexOf(id);
      chosen = cells.filter((cell) => wanted.has(cell.id));
      break;
    }
  }
  return chosen.filter((cell) => cell.code).map((cell) => cell.id);
}

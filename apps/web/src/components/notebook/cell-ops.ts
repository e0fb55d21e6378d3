import {
  type CellJson,
  cellToJson,
  createYCell,
  deleteCell,
  insertCell,
  notebookParts,
  type YCell,
} from '@kiln/notebook';
import type * as Y from 'yjs';

/** A deleted cell kept for "undo cell deletion" (Z). */
export interface DeletedCell {
  json: CellJson;
  index: number;
}

/** Inserts an empty cell of `type` at `index`; returns its id. */
export function addCell(doc: Y.Doc, index: number, type: 'code' | 'markdown' = 'code'): string {
  return insertCell(doc, { cell_type: type, source: '' }, index).get('id') as string;
}

/** Deletes the cell at `index` and returns what undo needs to put it back. */
export function removeCell(doc: Y.Doc, index: number): DeletedCell | null {
  const cell = notebookParts(doc).cells.get(index);
  if (!cell) return null;
  const json = cellToJson(cell);
  deleteCell(doc, index);
  return { json, index };
}

/** Puts a deleted cell back where it was (or at the end if the notebook got shorter). */
export function restoreCell(doc: Y.Doc, deleted: DeletedCell): number {
  const { cells } = notebookParts(doc);
  const index = Math.min(deleted.index, cells.length);
  const taken = cells.toArray().some((cell) => cell.get('id') === deleted.json.id);
  const { id, ...rest } = deleted.json;
  insertCell(doc, taken ? rest : deleted.json, index);
  return index;
}

/**
 * Changes a cell between code and markdown, keeping its id and source. The cell is replaced (as
 * JupyterLab does) because code cells carry outputs and an execution count markdown cells must not.
 */
export function changeCellType(doc: Y.Doc, index: number, type: 'code' | 'markdown'): void {
  const { cells } = notebookParts(doc);
  const cell: YCell | undefined = cells.get(index);
  if (!cell || cell.get('cell_type') === type) return;
  const json = cellToJson(cell) as CellJson & { id: string };
  const next: CellJson & { id: string } = {
    id: json.id,
    cell_type: type,
    metadata: json.metadata ?? {},
    source: json.source ?? '',
  };
  if (type === 'code') {
    next.outputs = [];
    next.execution_count = null;
  }
  doc.transact(() => {
    cells.delete(index, 1);
    cells.insert(index, [createYCell(next)]);
  });
}

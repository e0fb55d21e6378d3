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

/** Cells as the clipboard keeps them: their content without ids (a paste makes new cells). */
export function copyCells(doc: Y.Doc, indices: readonly number[]): CellJson[] {
  const { cells } = notebookParts(doc);
  return indices.flatMap((index) => {
    const cell = cells.get(index);
    if (!cell) return [];
    const { id: _id, ...json } = cellToJson(cell);
    return [json];
  });
}

/** Inserts copies of `copied` at `index`, in order; returns the first new cell's id. */
export function pasteCells(doc: Y.Doc, index: number, copied: readonly CellJson[]): string | null {
  let first: string | null = null;
  doc.transact(() => {
    copied.forEach((json, offset) => {
      const { id: _id, ...rest } = json;
      const type = rest.cell_type === 'markdown' || rest.cell_type === 'raw' ? rest.cell_type : 'code';
      const inserted = insertCell(doc, { ...rest, cell_type: type }, index + offset);
      first ??= inserted.get('id') as string;
    });
  });
  return first;
}

/**
 * Merges the cell at `index` with the one below it, as Jupyter's Shift+M does: the sources joined
 * by a newline in the upper cell (keeping its type and id), the lower cell removed, outputs cleared.
 */
export function mergeCellBelow(doc: Y.Doc, index: number): boolean {
  const { cells } = notebookParts(doc);
  const upper = cells.get(index);
  const lower = cells.get(index + 1);
  if (!upper || !lower) return false;
  const upperJson = cellToJson(upper) as CellJson & { id: string };
  const lowerSource = cellToJson(lower).source;
  const joined = [upperJson.source, lowerSource]
    .map((source) => (Array.isArray(source) ? source.join('') : String(source ?? '')))
    .join('\n');
  const merged: CellJson & { id: string } = { ...upperJson, source: joined };
  if (merged.cell_type === 'code') {
    merged.outputs = [];
    merged.execution_count = null;
  }
  doc.transact(() => {
    cells.delete(index, 2);
    cells.insert(index, [createYCell(merged)]);
  });
  return true;
}

import * as Y from 'yjs';
import { randomCellId } from './cell-ids.ts';
import { type NotebookParts, notebookParts, type YCell, type YOutput } from './notebook-doc.ts';
import { type CellJson, cloneJson, type JsonObject, type JsonValue, type OutputJson } from './types.ts';

/** Keys of a cell map that only exist while the notebook is open. */
const RUNTIME_CELL_KEYS = new Set(['execution_state']);

/** A Y.Map for one output; stream `text` becomes a Y.Text so it can grow in place. */
export function createYOutput(output: OutputJson): YOutput {
  return new Y.Map(
    Object.entries(output).map(([key, value]): [string, unknown] =>
      key === 'text' && output.output_type === 'stream' && typeof value === 'string'
        ? [key, new Y.Text(value)]
        : [key, cloneJson(value)],
    ),
  );
}

/** An output as nbformat JSON (stream text read out of its Y.Text). */
export function outputToJson(output: YOutput): OutputJson {
  const json: Record<string, JsonValue> = {};
  for (const [key, value] of output.entries()) {
    json[key] = value instanceof Y.Text ? value.toString() : cloneJson(value as JsonValue);
  }
  return json as OutputJson;
}

export interface CreateCellOptions {
  /** Keep `execution_state` from the input (used when cloning a cell to move it). */
  keepRuntime?: boolean;
}

/**
 * A Y.Map for one cell in JupyterLab's schema. Keys we do not know are kept as plain values, so
 * unknown cell types and future keys survive a round trip.
 */
export function createYCell(cell: CellJson & { id: string }, options: CreateCellOptions = {}): YCell {
  // Build the entries first: reading a Y.Map before it joins a doc only warns and returns nothing.
  const entries: [string, unknown][] = [];
  for (const [key, value] of Object.entries(cell)) {
    if (value === undefined) continue;
    if (RUNTIME_CELL_KEYS.has(key) && !options.keepRuntime) continue;
    if (key === 'source' && typeof value === 'string') {
      entries.push(['source', new Y.Text(value)]);
    } else if (key === 'metadata') {
      entries.push(['metadata', new Y.Map(Object.entries(cloneJson(value as JsonObject)))]);
    } else if (key === 'outputs' && cell.cell_type === 'code' && Array.isArray(value)) {
      const outputs = new Y.Array<YOutput>();
      outputs.push((value as OutputJson[]).map(createYOutput));
      entries.push(['outputs', outputs]);
    } else {
      entries.push([key, cloneJson(value as JsonValue)]);
    }
  }
  if (cell.cell_type === 'code') {
    if (!Array.isArray(cell.outputs)) entries.push(['outputs', new Y.Array<YOutput>()]);
    if (!(options.keepRuntime && cell.execution_state)) entries.push(['execution_state', 'idle']);
  }
  return new Y.Map(entries);
}

export interface CellToJsonOptions {
  /** Include runtime keys such as `execution_state` (default false: what a file would hold). */
  includeRuntime?: boolean;
  /** Include the cell id (default true). */
  includeId?: boolean;
}

/** One cell as nbformat JSON. */
export function cellToJson(cell: YCell, options: CellToJsonOptions = {}): CellJson {
  const json: Record<string, unknown> = {};
  for (const [key, value] of cell.entries()) {
    if (RUNTIME_CELL_KEYS.has(key) && !options.includeRuntime) continue;
    if (key === 'id' && options.includeId === false) continue;
    if (value instanceof Y.Text) json[key] = value.toString();
    else if (value instanceof Y.Map) json[key] = value.toJSON();
    else if (value instanceof Y.Array) {
      json[key] = value.toArray().map((item) => (item instanceof Y.Map ? outputToJson(item) : item));
    } else json[key] = cloneJson(value as JsonValue);
  }
  return json as CellJson;
}

/** A cell's outputs as nbformat JSON (an empty list for cells without outputs). */
export function getCellOutputs(cell: YCell): OutputJson[] {
  const outputs = cell.get('outputs');
  if (!(outputs instanceof Y.Array)) return [];
  return outputs.toArray().map((output) => stripDisplayId(outputToJson(output as YOutput)));
}

/** Display ids live in the doc so updates can find their outputs; nbformat never stores them. */
export function stripDisplayId(output: OutputJson): OutputJson {
  if (output.output_type === 'display_data' || output.output_type === 'execute_result')
    delete output.transient;
  return output;
}

/** The cell's id (stable across moves). */
export function getCellId(cell: YCell): string {
  return cell.get('id') as string;
}

/** Index of the cell with this id, or -1. */
export function findCellIndex(doc: Y.Doc, id: string): number {
  const cells = notebookParts(doc).cells;
  for (let i = 0; i < cells.length; i++) {
    if (cells.get(i).get('id') === id) return i;
  }
  return -1;
}

/** The cell with this id, or undefined. */
export function findCell(doc: Y.Doc, id: string): YCell | undefined {
  const index = findCellIndex(doc, id);
  return index < 0 ? undefined : notebookParts(doc).cells.get(index);
}

function existingIds(parts: NotebookParts): Set<string> {
  return new Set(parts.cells.map((cell) => cell.get('id') as string));
}

/** What a caller gives to create a cell; missing parts get nbformat's defaults. */
export type NewCell = Partial<CellJson> & { cell_type: string };

/** Insert a cell at `index` (default: the end) and return its Y.Map. A fresh unique id is made if none is given. */
export function insertCell(doc: Y.Doc, cell: NewCell, index?: number): YCell {
  const parts = notebookParts(doc);
  const at = index ?? parts.cells.length;
  if (at < 0 || at > parts.cells.length) throw new RangeError(`cell index ${at} is out of range`);
  const id = cell.id ?? randomCellId(existingIds(parts));
  const json: CellJson & { id: string } = { metadata: {}, source: '', ...cell, id };
  if (json.cell_type === 'code') {
    json.outputs ??= [];
    if (!('execution_count' in json)) json.execution_count = null;
  }
  const ycell = createYCell(json);
  parts.cells.insert(at, [ycell]);
  return ycell;
}

/** Delete the cell at `index`. */
export function deleteCell(doc: Y.Doc, index: number): void {
  notebookParts(doc).cells.delete(index, 1);
}

/**
 * Move the cell at `from` so that it ends at index `to`. Yjs 13 has no move, so this is delete +
 * insert of a clone keeping the same id, as JupyterLab does; two clients moving the same cell at
 * once both insert a clone, which `repairDuplicateCells` (run by `watchCellIdentity`) removes.
 */
export function moveCell(doc: Y.Doc, from: number, to: number): void {
  const { cells } = notebookParts(doc);
  if (from < 0 || from >= cells.length) throw new RangeError(`cell index ${from} is out of range`);
  if (to < 0 || to >= cells.length) throw new RangeError(`cell index ${to} is out of range`);
  if (from === to) return;
  doc.transact(() => {
    const clone = cellToJson(cells.get(from), { includeRuntime: true }) as CellJson & { id: string };
    cells.delete(from, 1);
    cells.insert(to, [createYCell(clone, { keepRuntime: true })]);
  });
}

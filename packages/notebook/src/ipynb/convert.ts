import * as random from 'lib0/random';
import * as Y from 'yjs';
import { deterministicCellId, fnv1a } from '../document/cell-ids.ts';
import { cellToJson, createYCell, stripDisplayId } from '../document/cells.ts';
import { getNbformatMinor, notebookParts } from '../document/notebook-doc.ts';
import {
  type CellJson,
  cloneJson,
  type JsonObject,
  type JsonValue,
  type NotebookJson,
} from '../document/types.ts';
import type { JsonPath, NumberLexeme } from './json-scan.ts';
import { getNumberLexemes, setNumberLexemes, valueAt } from './number-lexemes.ts';

/**
 * Top-level map of floats such as `1.0` (and ints past 2^53) exactly as the file wrote them,
 * keyed by JSON path with the cell id in place of its index so moves keep them attached.
 */
const NUMBERS_MAP = 'pythonNumbers';

function numberKey(path: JsonPath, cellIds: string[]): string | undefined {
  if (path[0] !== 'cells') return JSON.stringify(path);
  const id = cellIds[path[1] as number];
  return id === undefined ? undefined : JSON.stringify(['cells', id, ...path.slice(2)]);
}

function numberPath(key: string, cellIndex: Map<string, number>): JsonPath | undefined {
  const path = JSON.parse(key) as JsonPath;
  if (path[0] !== 'cells') return path;
  const index = cellIndex.get(path[1] as string);
  return index === undefined ? undefined : ['cells', index, ...path.slice(2)];
}

/** Top-level notebook keys with a home of their own in the `meta` map; any other key is kept in `meta` verbatim. */
const KNOWN_TOP_LEVEL = new Set(['cells', 'metadata', 'nbformat', 'nbformat_minor']);

export interface IpynbToYDocOptions {
  /** Load into this (empty) doc instead of a new one. */
  doc?: Y.Doc;
}

/**
 * Build a notebook Y.Doc from a parsed notebook. The content is written under a Yjs client id
 * derived from the content itself, then the doc switches to a random client id for later edits.
 * Loading the same file therefore always yields the same CRDT history, so a client still holding
 * an older copy merges without duplicating cells (the failure behind jupyter-collaboration's
 * duplicated-cell reports), while a load of different content uses a different client id, so a
 * stale client can never write conflicting content under the same item ids (which a fixed id 0
 * would allow).
 */
export function ipynbToYDoc(nb: NotebookJson, options: IpynbToYDocOptions = {}): Y.Doc {
  const doc = options.doc ?? new Y.Doc();
  if (doc.store.clients.size > 0) throw new Error('ipynbToYDoc needs an empty Y.Doc');
  const taken = new Set(nb.cells.flatMap((cell) => (typeof cell.id === 'string' ? [cell.id] : [])));
  const cells = nb.cells.map((cell, index) => {
    if (typeof cell.id === 'string') return { ...cell, id: cell.id };
    // Cells of 4.0-4.4 files have no id on disk; give them one for the session (never written back).
    const id = deterministicCellId(`${index}\u0000${cell.cell_type}\u0000${cell.source ?? ''}`, taken);
    taken.add(id);
    return { ...cell, id };
  });
  const ownClientId = doc.clientID;
  const loadClientId = fnv1a(JSON.stringify([nb, getNumberLexemes(nb)]));
  doc.clientID = loadClientId;
  try {
    const { meta, cells: ycells } = notebookParts(doc);
    doc.transact(() => {
      meta.set('nbformat', nb.nbformat);
      meta.set('nbformat_minor', nb.nbformat_minor);
      meta.set('metadata', new Y.Map(Object.entries(cloneJson(nb.metadata))));
      for (const [key, value] of Object.entries(nb)) {
        if (!KNOWN_TOP_LEVEL.has(key) && value !== undefined) meta.set(key, cloneJson(value as JsonValue));
      }
      ycells.push(cells.map((cell) => createYCell(cell)));
      const numbers = getNumberLexemes(nb);
      if (numbers.length > 0) {
        const map = doc.getMap<{ value: number; text: string }>(NUMBERS_MAP);
        const ids = cells.map((cell) => cell.id);
        for (const { path, value, text } of numbers) {
          const key = numberKey(path, ids);
          if (key !== undefined) map.set(key, { value, text });
        }
      }
    });
  } finally {
    doc.clientID = ownClientId === loadClientId ? random.uint32() : ownClientId;
  }
  return doc;
}

export interface YDocToIpynbOptions {
  /** Include runtime-only keys such as `execution_state` (default false). */
  includeRuntime?: boolean;
}

/** The notebook a Y.Doc holds, as nbformat JSON ready for `serializeIpynb`. Cell ids are written only for 4.5+. */
export function yDocToIpynb(doc: Y.Doc, options: YDocToIpynbOptions = {}): NotebookJson {
  const { meta, cells } = notebookParts(doc);
  const minor = getNbformatMinor(doc);
  const nb: Record<string, unknown> = {};
  for (const [key, value] of meta.entries()) {
    if (key === 'metadata') continue;
    nb[key] = cloneJson(value as JsonValue);
  }
  const metadata = meta.get('metadata');
  nb.metadata =
    metadata instanceof Y.Map ? (metadata.toJSON() as JsonObject) : cloneJson((metadata ?? {}) as JsonObject);
  nb.nbformat ??= 4;
  nb.nbformat_minor = minor;
  nb.cells = cells.toArray().map((cell): CellJson => {
    const json = cellToJson(cell, { includeRuntime: options.includeRuntime, includeId: minor >= 5 });
    if (json.cell_type === 'code' && Array.isArray(json.outputs)) json.outputs.forEach(stripDisplayId);
    return json;
  });
  restoreNumbers(doc, nb as NotebookJson);
  return nb as NotebookJson;
}

function restoreNumbers(doc: Y.Doc, nb: NotebookJson): void {
  if (!doc.share.has(NUMBERS_MAP)) return;
  const map = doc.getMap<{ value: number; text: string }>(NUMBERS_MAP);
  if (map.size === 0) return;
  const cellIndex = new Map(
    nb.cells.map((_, index) => [notebookParts(doc).cells.get(index).get('id') as string, index]),
  );
  const numbers: NumberLexeme[] = [];
  for (const [key, { value, text }] of map.entries()) {
    const path = numberPath(key, cellIndex);
    // Only numbers nobody has changed since the file was read keep their original spelling.
    if (path && valueAt(nb, path) === value) numbers.push({ path, value, text });
  }
  setNumberLexemes(nb, numbers);
}

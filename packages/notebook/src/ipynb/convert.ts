import * as random from 'lib0/random';
import * as Y from 'yjs';
import { deterministicCellId } from '../document/cell-ids.ts';
import { cellToJson, createYCell, stripDisplayId } from '../document/cells.ts';
import { getNbformatMinor, notebookParts } from '../document/notebook-doc.ts';
import {
  type CellJson,
  cloneJson,
  type JsonObject,
  type JsonValue,
  type NotebookJson,
} from '../document/types.ts';

/** Top-level notebook keys with a home of their own in the `meta` map; any other key is kept in `meta` verbatim. */
const KNOWN_TOP_LEVEL = new Set(['cells', 'metadata', 'nbformat', 'nbformat_minor']);

export interface IpynbToYDocOptions {
  /** Load into this (empty) doc instead of a new one. */
  doc?: Y.Doc;
}

/**
 * Build a notebook Y.Doc from a parsed notebook. The content is written as Yjs client 0, then the
 * doc switches to a random client id: loading the same file always yields the same CRDT history,
 * so a client still holding an older copy of it merges without duplicating cells (the failure
 * behind jupyter-collaboration's duplicated-cell reports).
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
  doc.clientID = 0;
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
    });
  } finally {
    doc.clientID = ownClientId === 0 ? random.uint32() : ownClientId;
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
  return nb as NotebookJson;
}

import { cellToJson, createYCell, type JsonValue, notebookParts } from '@kiln/notebook';
import * as Y from 'yjs';

/**
 * @kiln/notebook keeps the original spelling of numbers such as `1.0` in this top-level map
 * (keyed by cell id), so it travels with the content it describes.
 */
const NUMBER_SPELLINGS = 'pythonNumbers';

/** The whole state of a document, as stored in a named version. */
export function snapshotOf(doc: Y.Doc): Uint8Array {
  return Y.encodeStateAsUpdate(doc);
}

/** A detached document built from a stored snapshot. */
export function docFromSnapshot(snapshot: Uint8Array): Y.Doc {
  const doc = new Y.Doc();
  Y.applyUpdate(doc, snapshot);
  return doc;
}

/** A deep copy of a value held in a Y.Map, as fresh Yjs types that can join another document. */
function copyValue(value: unknown): unknown {
  if (value instanceof Y.Text) return new Y.Text(value.toString());
  if (value instanceof Y.Map) {
    return new Y.Map([...value.entries()].map(([key, item]) => [key, copyValue(item)] as [string, unknown]));
  }
  if (value instanceof Y.Array) {
    const array = new Y.Array<unknown>();
    array.push(value.toArray().map(copyValue));
    return array;
  }
  return structuredClone(value as JsonValue);
}

function replaceMap(target: Y.Map<unknown>, source: Y.Map<unknown>): void {
  for (const key of [...target.keys()]) if (!source.has(key)) target.delete(key);
  for (const [key, value] of source.entries()) target.set(key, copyValue(value));
}

/**
 * Rewrites `target`'s notebook content (metadata, cells, number spellings) to equal `source`'s, in
 * place, so connected clients receive it as an ordinary edit. The `state` map (kernel and queue
 * status) is live runtime state and stays as it is. Call inside one transaction.
 */
export function replaceNotebookContent(target: Y.Doc, source: Y.Doc): void {
  const to = notebookParts(target);
  const from = notebookParts(source);
  replaceMap(to.meta, from.meta);
  replaceMap(target.getMap(NUMBER_SPELLINGS), source.getMap(NUMBER_SPELLINGS));
  to.cells.delete(0, to.cells.length);
  to.cells.push(
    from.cells.toArray().map((cell) => {
      const json = cellToJson(cell, { includeRuntime: false, includeId: true });
      return createYCell({ ...json, id: cell.get('id') as string });
    }),
  );
}

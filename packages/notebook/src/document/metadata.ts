import * as Y from 'yjs';
import { notebookParts, type YCell } from './notebook-doc.ts';
import { cloneJson, type JsonObject, type JsonValue } from './types.ts';

function notebookMetadataMap(doc: Y.Doc): Y.Map<unknown> {
  const { meta } = notebookParts(doc);
  let metadata = meta.get('metadata');
  if (!(metadata instanceof Y.Map)) {
    metadata = new Y.Map(Object.entries((metadata as JsonObject | undefined) ?? {}));
    meta.set('metadata', metadata);
  }
  return metadata as Y.Map<unknown>;
}

/** Notebook-level metadata (kernelspec, language_info, widgets...) as JSON. */
export function getNotebookMetadata(doc: Y.Doc): JsonObject {
  const metadata = notebookParts(doc).meta.get('metadata');
  if (metadata instanceof Y.Map) return metadata.toJSON() as JsonObject;
  return cloneJson((metadata as JsonObject | undefined) ?? {});
}

/** Set (or with `undefined`, delete) one top-level key of the notebook metadata. */
export function setNotebookMetadata(doc: Y.Doc, key: string, value: JsonValue | undefined): void {
  doc.transact(() => {
    const metadata = notebookMetadataMap(doc);
    if (value === undefined) metadata.delete(key);
    else metadata.set(key, cloneJson(value));
  });
}

/** A cell's metadata as JSON. */
export function getCellMetadata(cell: YCell): JsonObject {
  const metadata = cell.get('metadata');
  if (metadata instanceof Y.Map) return metadata.toJSON() as JsonObject;
  return cloneJson((metadata as JsonObject | undefined) ?? {});
}

/** Set (or with `undefined`, delete) one top-level key of a cell's metadata. */
export function setCellMetadata(cell: YCell, key: string, value: JsonValue | undefined): void {
  const apply = (): void => {
    let metadata = cell.get('metadata');
    if (!(metadata instanceof Y.Map)) {
      metadata = new Y.Map(Object.entries((metadata as JsonObject | undefined) ?? {}));
      cell.set('metadata', metadata);
    }
    const map = metadata as Y.Map<unknown>;
    if (value === undefined) map.delete(key);
    else map.set(key, cloneJson(value));
  };
  if (cell.doc) cell.doc.transact(apply);
  else apply();
}

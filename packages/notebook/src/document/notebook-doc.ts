import * as Y from 'yjs';
import type { JsonObject } from './types.ts';

/** A cell in the shared document: a Y.Map with `id`, `cell_type`, `source` (Y.Text), `metadata` (Y.Map)... */
export type YCell = Y.Map<unknown>;
/** An output in the shared document; a stream output's `text` is a Y.Text. */
export type YOutput = Y.Map<unknown>;

/** The nbformat version new notebooks get. */
export const NBFORMAT_MAJOR = 4;
/** The nbformat minor version new notebooks get (4.5: cells carry ids). */
export const NBFORMAT_MINOR = 5;

/** The three top-level types of JupyterLab's notebook schema (jupyter_ydoc YNotebook, version 2.0.0). */
export interface NotebookParts {
  state: Y.Map<unknown>;
  meta: Y.Map<unknown>;
  cells: Y.Array<YCell>;
}

/** The `state`, `meta` and `cells` shared types of a notebook doc. */
export function notebookParts(doc: Y.Doc): NotebookParts {
  return { state: doc.getMap('state'), meta: doc.getMap('meta'), cells: doc.getArray<YCell>('cells') };
}

/** The doc's `cells` array. */
export function getCells(doc: Y.Doc): Y.Array<YCell> {
  return doc.getArray<YCell>('cells');
}

export interface CreateNotebookOptions {
  nbformat?: number;
  nbformatMinor?: number;
  metadata?: JsonObject;
  /** Populate this doc instead of a new one. */
  doc?: Y.Doc;
}

/** A new, empty notebook document (nbformat 4.5 unless told otherwise). */
export function createNotebookDoc(options: CreateNotebookOptions = {}): Y.Doc {
  const doc = options.doc ?? new Y.Doc();
  const { meta } = notebookParts(doc);
  doc.transact(() => {
    meta.set('nbformat', options.nbformat ?? NBFORMAT_MAJOR);
    meta.set('nbformat_minor', options.nbformatMinor ?? NBFORMAT_MINOR);
    meta.set('metadata', new Y.Map(Object.entries(options.metadata ?? {})));
  });
  return doc;
}

/** The nbformat minor version recorded in the doc (4.4 documents never get cell ids on export). */
export function getNbformatMinor(doc: Y.Doc): number {
  const minor = notebookParts(doc).meta.get('nbformat_minor');
  return typeof minor === 'number' ? minor : NBFORMAT_MINOR;
}

/** Upgrade a 4.0-4.4 notebook to 4.5: from now on its cell ids are written to the file. */
export function upgradeToNbformat45(doc: Y.Doc): void {
  const { meta } = notebookParts(doc);
  if (getNbformatMinor(doc) < 5) meta.set('nbformat_minor', 5);
}

'use client';
import type * as Y from 'yjs';
import type { monaco } from './monaco.ts';

// Mounted cell editors by the shared text they edit, for notebook-wide features (find and replace)
// that need to decorate or select inside an editor.
const editors = new Map<Y.Text, monaco.editor.IStandaloneCodeEditor>();

export function registerCellEditor(source: Y.Text, editor: monaco.editor.IStandaloneCodeEditor): () => void {
  editors.set(source, editor);
  return () => {
    if (editors.get(source) === editor) editors.delete(source);
  };
}

/** The mounted editor of a cell's source, if it has one. */
export function cellEditorFor(source: Y.Text): monaco.editor.IStandaloneCodeEditor | undefined {
  return editors.get(source);
}

import * as Y from 'yjs';
import { notebookParts, type YOutput } from '../document/notebook-doc.ts';
import type { JsonObject } from '../document/types.ts';

function outputDisplayId(output: YOutput): string | undefined {
  const transient = output.get('transient') as { display_id?: unknown } | undefined;
  return typeof transient?.display_id === 'string' ? transient.display_id : undefined;
}

/**
 * Every output in the notebook showing `displayId`, in any cell. The display ids are stored in the
 * document itself, so this works for outputs written by an earlier execution, another writer or
 * before a restart.
 */
export function findDisplayOutputs(doc: Y.Doc, displayId: string): YOutput[] {
  const found: YOutput[] = [];
  for (const cell of notebookParts(doc).cells) {
    const outputs = cell.get('outputs');
    if (!(outputs instanceof Y.Array)) continue;
    for (const output of outputs) {
      if (output instanceof Y.Map && outputDisplayId(output) === displayId) found.push(output);
    }
  }
  return found;
}

/** Rewrite `data` and `metadata` of every output with this display id; returns how many changed. */
export function updateDisplayOutputs(
  doc: Y.Doc,
  displayId: string,
  data: JsonObject,
  metadata: JsonObject,
): number {
  const targets = findDisplayOutputs(doc, displayId);
  if (targets.length === 0) return 0;
  doc.transact(() => {
    for (const output of targets) {
      output.set('data', structuredClone(data));
      output.set('metadata', structuredClone(metadata));
    }
  });
  return targets.length;
}

import { cloneJson, type NotebookJson } from '../document/types.ts';
import { getNumberLexemes, lexemeTree } from './number-lexemes.ts';
import { stripTransient } from './parse.ts';
import { pythonJsonDumps } from './python-json.ts';
import { splitCellLines } from './split-lines.ts';

/**
 * Write a notebook exactly as `nbformat.write` does: lines split for version control, transient
 * keys dropped, keys sorted, one-space indent, non-ASCII kept, and a trailing newline.
 */
export function serializeIpynb(nb: NotebookJson): string {
  const copy = cloneJson(nb as unknown as Record<string, never>) as unknown as NotebookJson;
  for (const cell of copy.cells) splitCellLines(cell as unknown as Parameters<typeof splitCellLines>[0]);
  stripTransient(copy);
  return `${pythonJsonDumps(copy, lexemeTree(getNumberLexemes(nb)))}\n`;
}

import { createNotebookDoc, insertCell, notebookParts } from '@kiln/notebook';
import { describe, expect, it } from 'vitest';
import { addCell, changeCellType, removeCell, restoreCell } from './cell-ops.ts';

describe('cell operations', () => {
  it('undoes a deletion by putting the same cell back in place', () => {
    const doc = createNotebookDoc();
    addCell(doc, 0);
    const id = insertCell(doc, { cell_type: 'code', source: 'x = 1' }, 1).get('id');
    addCell(doc, 2);
    const deleted = removeCell(doc, 1);
    expect(notebookParts(doc).cells.length).toBe(2);
    if (!deleted) throw new Error('nothing was deleted');
    expect(restoreCell(doc, deleted)).toBe(1);
    const back = notebookParts(doc).cells.get(1);
    expect(back.get('id')).toBe(id);
    expect(back.get('source')?.toString()).toBe('x = 1');
  });

  it('turns a code cell into markdown and back, keeping its id and text but not its outputs', () => {
    const doc = createNotebookDoc();
    const cell = insertCell(doc, {
      cell_type: 'code',
      source: '# Title',
      outputs: [{ output_type: 'stream', name: 'stdout', text: 'hi' }],
      execution_count: 3,
    });
    const id = cell.get('id');
    changeCellType(doc, 0, 'markdown');
    const markdown = notebookParts(doc).cells.get(0);
    expect(markdown.get('cell_type')).toBe('markdown');
    expect(markdown.get('id')).toBe(id);
    expect(markdown.has('outputs')).toBe(false);
    changeCellType(doc, 0, 'code');
    const code = notebookParts(doc).cells.get(0);
    expect(code.get('source')?.toString()).toBe('# Title');
    expect(code.get('execution_count')).toBeNull();
  });
});

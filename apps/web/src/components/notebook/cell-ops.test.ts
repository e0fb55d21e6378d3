import { createNotebookDoc, insertCell, notebookParts } from '@kiln/notebook';
import { describe, expect, it } from 'vitest';
import {
  addCell,
  changeCellType,
  copyCells,
  mergeCellBelow,
  pasteCells,
  removeCell,
  restoreCell,
} from './cell-ops.ts';

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

  it('pastes copied cells into another notebook as new cells with the same content and outputs', () => {
    const from = createNotebookDoc();
    insertCell(from, { cell_type: 'markdown', source: '# Title' }, 0);
    insertCell(
      from,
      {
        cell_type: 'code',
        source: 'print(1)',
        outputs: [{ output_type: 'stream', name: 'stdout', text: '1\n' }],
      },
      1,
    );
    const copied = copyCells(from, [0, 1]);
    const to = createNotebookDoc();
    addCell(to, 0);
    pasteCells(to, 1, copied);
    const cells = notebookParts(to).cells.toArray();
    expect(cells.map((c) => c.get('source')?.toString())).toEqual(['', '# Title', 'print(1)']);
    expect((cells[2]?.get('outputs') as { length: number } | undefined)?.length).toBe(1);
    const fromIds = notebookParts(from)
      .cells.toArray()
      .map((c) => c.get('id'));
    expect(fromIds).not.toContain(cells[1]?.get('id'));
  });

  it('merges a cell with the one below: sources joined, outputs cleared, one cell left', () => {
    const doc = createNotebookDoc();
    const upper = insertCell(
      doc,
      { cell_type: 'code', source: 'a = 1', outputs: [{ output_type: 'stream', name: 'stdout', text: 'x' }] },
      0,
    );
    const upperId = upper.get('id');
    insertCell(doc, { cell_type: 'code', source: 'b = 2' }, 1);
    insertCell(doc, { cell_type: 'code', source: 'c = 3' }, 2);
    expect(mergeCellBelow(doc, 0)).toBe(true);
    const cells = notebookParts(doc).cells.toArray();
    expect(cells.map((c) => c.get('source')?.toString())).toEqual(['a = 1\nb = 2', 'c = 3']);
    expect(cells[0]?.get('id')).toBe(upperId);
    expect((cells[0]?.get('outputs') as { length: number } | undefined)?.length).toBe(0);
    expect(mergeCellBelow(doc, 1)).toBe(false);
  });
});

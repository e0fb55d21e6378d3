import { describe, expect, it } from 'vitest';
import { diffNotebooks } from './version-diff.ts';

const cell = (id: string, source: string, type = 'code') => ({ id, source, type });

describe('diffNotebooks', () => {
  it('reports added, removed and edited cells line by line, and ignores moves', () => {
    const before = [cell('a', 'x = 1\ny = 2'), cell('b', '# Title', 'markdown'), cell('c', 'gone()')];
    const after = [cell('b', '# Title', 'markdown'), cell('a', 'x = 1\ny = 3'), cell('d', 'new()')];
    const changes = diffNotebooks(before, after);
    expect(changes.map((change) => [change.kind, change.cell.id])).toEqual([
      ['changed', 'a'],
      ['added', 'd'],
      ['removed', 'c'],
    ]);
    const edited = changes[0];
    if (edited?.kind !== 'changed') throw new Error('expected a changed cell');
    expect(edited.lines).toEqual([
      { kind: 'same', text: 'x = 1' },
      { kind: 'removed', text: 'y = 2' },
      { kind: 'added', text: 'y = 3' },
    ]);
  });

  it('finds nothing between identical notebooks', () => {
    expect(diffNotebooks([cell('a', 'x')], [cell('a', 'x')])).toEqual([]);
  });
});

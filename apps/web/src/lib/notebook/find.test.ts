import { describe, expect, it } from 'vitest';
import { findMatches, replacementEdits } from './find.ts';

describe('findMatches', () => {
  it('finds every occurrence across cells in order, ignoring case unless asked', () => {
    const sources = ['x = load()\nX = 2', 'print(x)', ''];
    expect(findMatches(sources, 'x', { caseSensitive: false })).toEqual([
      { cellIndex: 0, start: 0, end: 1 },
      { cellIndex: 0, start: 11, end: 12 },
      { cellIndex: 1, start: 6, end: 7 },
    ]);
    expect(findMatches(sources, 'X', { caseSensitive: true })).toEqual([
      { cellIndex: 0, start: 11, end: 12 },
    ]);
    expect(findMatches(sources, '', { caseSensitive: false })).toEqual([]);
  });

  it('does not overlap matches and replaces from the end of a cell', () => {
    const matches = findMatches(['aaaa'], 'aa', { caseSensitive: true });
    expect(matches.map((m) => m.start)).toEqual([0, 2]);
    expect(replacementEdits(matches, 0)).toEqual([
      { start: 2, length: 2 },
      { start: 0, length: 2 },
    ]);
  });
});

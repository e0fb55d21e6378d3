import { describe, expect, it } from 'vitest';
import { cellsWithinBudget } from './snapshot-budget.ts';

const cell = (bytes: number) => ({ source: 'x'.repeat(bytes) });

describe('cellsWithinBudget', () => {
  it('keeps leading cells until the budget is spent', () => {
    const cells = [cell(100), cell(100), cell(100), cell(100)];
    const kept = cellsWithinBudget(cells, 250);
    expect(kept).toEqual(cells.slice(0, 2));
  });

  it('always keeps the first cell, however large, so code is never missing from the first screen', () => {
    expect(cellsWithinBudget([cell(10_000), cell(10)], 100)).toHaveLength(1);
    expect(cellsWithinBudget([], 100)).toEqual([]);
  });

  it('keeps every cell of a small notebook', () => {
    expect(cellsWithinBudget([cell(10), cell(10), cell(10)], 64 * 1024)).toHaveLength(3);
  });
});

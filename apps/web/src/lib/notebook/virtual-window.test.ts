import { describe, expect, it } from 'vitest';
import { estimateCellHeight, prefixOffsets, visibleRange } from './virtual-window.ts';

describe('virtual window', () => {
  const offsets = prefixOffsets(Array.from({ length: 500 }, () => 100));

  it('sums heights into offsets', () => {
    expect(prefixOffsets([10, 20, 30])).toEqual([0, 10, 30, 60]);
  });

  it('renders only the cells in view plus the overscan', () => {
    expect(visibleRange(offsets, 0, 800, 0)).toEqual({ start: 0, end: 9 });
    expect(visibleRange(offsets, 10_000, 800, 400)).toEqual({ start: 96, end: 113 });
  });

  it('clamps at both ends of a long notebook', () => {
    expect(visibleRange(offsets, 49_900, 800, 400)).toEqual({ start: 495, end: 500 });
    expect(visibleRange(offsets, 1_000_000, 800, 0)).toEqual({ start: 499, end: 500 });
    expect(visibleRange(prefixOffsets([]), 0, 800, 0)).toEqual({ start: 0, end: 0 });
  });

  it('handles cells of very different heights', () => {
    const mixed = prefixOffsets([50, 5000, 50, 50]);
    expect(visibleRange(mixed, 2000, 500, 0)).toEqual({ start: 1, end: 2 });
    expect(visibleRange(mixed, 5040, 100, 0)).toEqual({ start: 1, end: 4 });
  });

  it('estimates taller cells for more source, more output and images', () => {
    const small = estimateCellHeight(1, 0, false);
    expect(estimateCellHeight(10, 0, false)).toBeGreaterThan(small);
    expect(estimateCellHeight(1, 5, false)).toBeGreaterThan(small);
    expect(estimateCellHeight(1, 0, true)).toBeGreaterThan(estimateCellHeight(1, 5, false));
  });
});

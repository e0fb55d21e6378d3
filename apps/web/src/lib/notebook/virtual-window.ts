/** Top offset of every cell plus the total height at the end (length `heights.length + 1`). */
export function prefixOffsets(heights: readonly number[]): number[] {
  const offsets = new Array<number>(heights.length + 1);
  offsets[0] = 0;
  for (let i = 0; i < heights.length; i++) offsets[i + 1] = (offsets[i] as number) + (heights[i] as number);
  return offsets;
}

/** Index of the cell containing pixel `y` (clamped to the list). */
function cellAt(offsets: readonly number[], y: number): number {
  const count = offsets.length - 1;
  if (count <= 0) return 0;
  let lo = 0;
  let hi = count - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((offsets[mid] as number) <= y) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

export interface WindowRange {
  /** First cell rendered in full. */
  start: number;
  /** One past the last cell rendered in full. */
  end: number;
}

/**
 * The cells to render in full when the list's visible part is `[scrollTop, scrollTop + viewport)`
 * (in list coordinates), plus `overscan` pixels either side so a quick scroll meets rendered cells.
 */
export function visibleRange(
  offsets: readonly number[],
  scrollTop: number,
  viewportHeight: number,
  overscan: number,
): WindowRange {
  const count = offsets.length - 1;
  if (count <= 0) return { start: 0, end: 0 };
  const top = Math.max(0, scrollTop - overscan);
  const bottom = scrollTop + viewportHeight + overscan;
  if (bottom <= 0) return { start: 0, end: Math.min(1, count) };
  const start = cellAt(offsets, top);
  const end = Math.min(count, cellAt(offsets, bottom) + 1);
  return { start, end: Math.max(end, start + 1) };
}

/** A guess at a cell's rendered height before it was ever measured. */
export function estimateCellHeight(sourceLines: number, outputLines: number, hasImage: boolean): number {
  const editor = 16 + Math.min(sourceLines, 200) * 19;
  const outputs = Math.min(outputLines, 30) * 17 + (hasImage ? 300 : 0);
  return 24 + editor + (outputs > 0 ? outputs + 16 : 0);
}

/** One line of a diff: kept, removed (only in the old text) or added (only in the new). */
export interface DiffLine {
  op: ' ' | '-' | '+';
  text: string;
}

const MAX_CELLS = 4_000_000;

/** A longest-common-subsequence line diff; past 4M comparisons it falls back to "all removed, all added". */
export function lineDiff(before: string, after: string): DiffLine[] {
  const a = before.split('\n');
  const b = after.split('\n');
  if (a.length * b.length > MAX_CELLS)
    return [
      ...a.map((text) => ({ op: '-' as const, text })),
      ...b.map((text) => ({ op: '+' as const, text })),
    ];
  const width = b.length + 1;
  const lcs = new Uint32Array((a.length + 1) * width);
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      lcs[i * width + j] =
        a[i] === b[j]
          ? at(lcs, (i + 1) * width + j + 1) + 1
          : Math.max(at(lcs, (i + 1) * width + j), at(lcs, i * width + j + 1));
    }
  }
  const out: DiffLine[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) {
      out.push({ op: ' ', text: a[i] ?? '' });
      i++;
      j++;
    } else if (at(lcs, (i + 1) * width + j) >= at(lcs, i * width + j + 1))
      out.push({ op: '-', text: a[i++] ?? '' });
    else out.push({ op: '+', text: b[j++] ?? '' });
  }
  while (i < a.length) out.push({ op: '-', text: a[i++] ?? '' });
  while (j < b.length) out.push({ op: '+', text: b[j++] ?? '' });
  return out;
}

const at = (array: Uint32Array, index: number): number => array[index] ?? 0;

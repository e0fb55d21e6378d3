/** One occurrence of the search text in a cell's source. */
export interface FindMatch {
  cellIndex: number;
  start: number;
  end: number;
}

export interface FindOptions {
  caseSensitive: boolean;
}

/** Every occurrence of `query` in the sources, in notebook order; none for an empty query. */
export function findMatches(sources: readonly string[], query: string, options: FindOptions): FindMatch[] {
  if (!query) return [];
  const needle = options.caseSensitive ? query : query.toLowerCase();
  const matches: FindMatch[] = [];
  sources.forEach((source, cellIndex) => {
    const haystack = options.caseSensitive ? source : source.toLowerCase();
    let from = 0;
    for (;;) {
      const at = haystack.indexOf(needle, from);
      if (at === -1) break;
      matches.push({ cellIndex, start: at, end: at + needle.length });
      from = at + Math.max(needle.length, 1);
    }
  });
  return matches;
}

/** The edits that replace `matches` in one cell, last first so earlier offsets stay valid. */
export function replacementEdits(
  matches: readonly FindMatch[],
  cellIndex: number,
): { start: number; length: number }[] {
  return matches
    .filter((match) => match.cellIndex === cellIndex)
    .sort((a, b) => b.start - a.start)
    .map((match) => ({ start: match.start, length: match.end - match.start }));
}

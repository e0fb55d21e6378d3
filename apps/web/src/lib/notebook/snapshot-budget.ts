/**
 * The leading cells that fit in `budgetBytes` of JSON (always at least one). The page sends its
 * first cells twice, as HTML and as the props that hydrate it, so a notebook with large outputs made
 * the first response hundreds of KiB and the first code late; a screenful needs only a few cells, and
 * the rest arrive with the live document below the fold.
 */
export function cellsWithinBudget<T>(cells: readonly T[], budgetBytes: number): T[] {
  const kept: T[] = [];
  let used = 0;
  for (const cell of cells) {
    used += JSON.stringify(cell).length;
    if (kept.length > 0 && used > budgetBytes) break;
    kept.push(cell);
  }
  return kept;
}

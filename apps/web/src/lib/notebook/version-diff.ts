import { diffLines } from 'diff';

/** A cell as the diff compares it. */
export interface DiffCell {
  id: string;
  type: string;
  source: string;
}

/** A line of a changed cell: kept, added (only in `after`) or removed (only in `before`). */
export interface DiffLine {
  kind: 'same' | 'added' | 'removed';
  text: string;
}

export type CellChange =
  | { kind: 'added'; cell: DiffCell; index: number }
  | { kind: 'removed'; cell: DiffCell }
  | { kind: 'changed'; cell: DiffCell; index: number; lines: DiffLine[] };

function lines(text: string): string[] {
  const parts = text.split('\n');
  if (parts[parts.length - 1] === '') parts.pop();
  return parts;
}

/**
 * What changed from `before` (a saved version) to `after` (the notebook now), cell by cell: cells
 * are matched by id, so a moved cell is not a change. Unchanged cells are left out.
 */
export function diffNotebooks(before: readonly DiffCell[], after: readonly DiffCell[]): CellChange[] {
  const old = new Map(before.map((cell) => [cell.id, cell]));
  const kept = new Set(after.map((cell) => cell.id));
  const changes: CellChange[] = [];
  after.forEach((cell, index) => {
    const previous = old.get(cell.id);
    if (!previous) {
      changes.push({ kind: 'added', cell, index });
      return;
    }
    if (previous.source === cell.source && previous.type === cell.type) return;
    const diffLinesOut: DiffLine[] = diffLines(previous.source, cell.source).flatMap((part) =>
      lines(part.value).map((text) => ({
        kind: part.added ? ('added' as const) : part.removed ? ('removed' as const) : ('same' as const),
        text,
      })),
    );
    changes.push({ kind: 'changed', cell, index, lines: diffLinesOut });
  });
  for (const cell of before) if (!kept.has(cell.id)) changes.push({ kind: 'removed', cell });
  return changes;
}

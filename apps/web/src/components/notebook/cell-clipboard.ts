import type { CellJson } from '@kiln/notebook';

// Local storage, so cells copied in one notebook (or browser tab) paste into another.
const KEY = 'kiln.cell-clipboard';
let memory: CellJson[] = [];

/** Keeps copied cells for a later paste, in this notebook or another. */
export function writeCellClipboard(cells: CellJson[]): void {
  memory = cells;
  try {
    localStorage.setItem(KEY, JSON.stringify(cells));
  } catch {
    // Storage full or disabled: the copy still pastes within this page.
  }
}

/** The cells last copied in any notebook of this browser. */
export function readCellClipboard(): CellJson[] {
  try {
    const stored = localStorage.getItem(KEY);
    if (stored) {
      const parsed: unknown = JSON.parse(stored);
      if (Array.isArray(parsed)) return parsed as CellJson[];
    }
  } catch {
    // Unreadable storage: fall back to this page's copy.
  }
  return memory;
}

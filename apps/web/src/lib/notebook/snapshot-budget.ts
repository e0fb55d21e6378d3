import type { CellJson, OutputJson } from '@kiln/notebook';
import { joinText, LONG_OUTPUT_LINES, truncationOf } from './output-model.ts';

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

/** The first `count` lines of `text`, each with its newline, or null when it has no more than that. */
function leadingLines(text: string, count: number): string | null {
  let at = -1;
  for (let line = 0; line < count; line++) {
    at = text.indexOf('\n', at + 1);
    if (at === -1) return null;
  }
  return at === text.length - 1 ? null : text.slice(0, at + 1);
}

function trimStream(output: OutputJson, maxLines: number): OutputJson {
  if (output.output_type !== 'stream' || truncationOf(output)) return output;
  const kept = leadingLines(joinText(output.text), maxLines);
  return kept === null ? output : { ...output, text: kept };
}

/** Lines of each stream output the first response carries: past the long-output threshold, so a
 * cut stream still shows in the same fixed-height scroll box, which it more than fills. */
export const SNAPSHOT_STREAM_LINES = LONG_OUTPUT_LINES + 20;

/**
 * A cell for the first response with each stream output cut to its first SNAPSHOT_STREAM_LINES
 * lines. A cut stream stays a long output, shown in a scroll box of fixed height, so the cut changes
 * only text inside the box, out of sight, and nothing moves when the live document brings the rest.
 * A long training log made most of the first response's bytes (twice: HTML and hydration props) and
 * of the layout before the first paint. Outputs carrying a truncation note stay whole (its download
 * link sits below the text).
 */
export function withShortStreams(cell: CellJson): CellJson {
  if (!cell.outputs?.some((output) => output.output_type === 'stream')) return cell;
  return { ...cell, outputs: cell.outputs.map((output) => trimStream(output, SNAPSHOT_STREAM_LINES)) };
}

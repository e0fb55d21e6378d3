/** A markdown heading of a notebook, for its table of contents. */
export interface Heading {
  level: number;
  text: string;
  cellIndex: number;
  /** Character offset of the heading in its cell, to tell apart two headings of one cell. */
  offset: number;
}

const FENCE = /^\s{0,3}(```|~~~)/;
const ATX = /^\s{0,3}(#{1,6})\s+(.+?)\s*#*\s*$/;

/** The ATX headings (`# Title`) of one markdown cell, skipping fenced code blocks. */
export function markdownHeadings(source: string, cellIndex: number): Heading[] {
  const headings: Heading[] = [];
  let inFence = false;
  let offset = 0;
  for (const line of source.split('\n')) {
    if (FENCE.test(line)) inFence = !inFence;
    else if (!inFence) {
      const match = ATX.exec(line);
      if (match?.[1] && match[2]) {
        const text = match[2].replace(/[*_`]/g, '').trim();
        if (text) headings.push({ level: match[1].length, text, cellIndex, offset });
      }
    }
    offset += line.length + 1;
  }
  return headings;
}

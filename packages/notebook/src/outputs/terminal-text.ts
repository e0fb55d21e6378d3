import type * as Y from 'yjs';

/** Where the next character lands on the stream's last line: a code-point column, or `null` for its end. */
export type StreamColumn = number | null;

export interface RenderedLine {
  /** The replacement for the old last line: finished lines (ending in `\n`) then the new last line. */
  text: string;
  column: StreamColumn;
}

/**
 * Apply `fragment` to the last line of a stream the way a terminal (and JupyterLab) shows it:
 * `\r` returns to the start of the line and later characters overwrite it, `\r\n` is a newline,
 * `\b` removes the character before the cursor. Earlier lines are final, so only the last line
 * of the existing text is needed.
 */
export function renderTerminalLine(lastLine: string, fragment: string, column: StreamColumn): RenderedLine {
  let done = '';
  let chars = Array.from(lastLine);
  let cursor = column === null ? chars.length : Math.min(column, chars.length);
  for (let i = 0; i < fragment.length; ) {
    const code = fragment.codePointAt(i) as number;
    const char = String.fromCodePoint(code);
    i += char.length;
    if (char === '\n') {
      done += `${chars.join('')}\n`;
      chars = [];
      cursor = 0;
    } else if (char === '\r') {
      if (fragment[i] !== '\n') cursor = 0;
    } else if (char === '\b') {
      if (cursor > 0) {
        chars.splice(cursor - 1, 1);
        cursor--;
      }
    } else if (cursor < chars.length) {
      chars[cursor++] = char;
    } else {
      chars.push(char);
      cursor++;
    }
  }
  return { text: done + chars.join(''), column: cursor === chars.length ? null : cursor };
}

function commonPrefixLength(a: string, b: string): number {
  const max = Math.min(a.length, b.length);
  let i = 0;
  while (i < max && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  // Never split a surrogate pair between the kept and the rewritten part.
  if (i > 0 && i < max) {
    const previous = a.charCodeAt(i - 1);
    if (previous >= 0xd800 && previous <= 0xdbff) i--;
  }
  return i;
}

/** What a writer remembers about a stream between fragments, so redraws need not re-read the whole text. */
export interface StreamTail {
  column: StreamColumn;
  /** The Y.Text's length when this was taken; a different length means someone else changed it. */
  length: number;
  lineStart: number;
  lastLine: string;
}

export interface StreamAppendResult {
  tail: StreamTail;
  /** Text removed from and added to the Y.Text (to keep byte counts). */
  removed: string;
  inserted: string;
}

const CONTROL = /[\r\b]/;

function readTail(text: Y.Text): StreamTail {
  const current = text.toString();
  const lineStart = current.lastIndexOf('\n') + 1;
  return { column: null, length: current.length, lineStart, lastLine: current.slice(lineStart) };
}

/**
 * Append a stream fragment to a Y.Text with the fewest edits: plain text is one insert at the end;
 * a redraw deletes only the overwritten tail of the last line and inserts the new characters, so
 * peers see a progress bar change in place rather than the whole output being replaced. Pass the
 * previous result's `tail` back in to keep the cursor column and avoid re-reading the text.
 */
export function appendStreamText(
  text: Y.Text,
  fragment: string,
  previous?: StreamTail | null,
): StreamAppendResult {
  const tail = previous && previous.length === text.length ? previous : readTail(text);
  if (tail.column === null && !CONTROL.test(fragment)) {
    text.insert(text.length, fragment);
    const newline = fragment.lastIndexOf('\n');
    const next: StreamTail =
      newline < 0
        ? {
            column: null,
            length: tail.length + fragment.length,
            lineStart: tail.lineStart,
            lastLine: tail.lastLine + fragment,
          }
        : {
            column: null,
            length: tail.length + fragment.length,
            lineStart: tail.length + newline + 1,
            lastLine: fragment.slice(newline + 1),
          };
    return { tail: next, removed: '', inserted: fragment };
  }
  const { lineStart, lastLine } = tail;
  const rendered = renderTerminalLine(lastLine, fragment, tail.column);
  const keep = commonPrefixLength(lastLine, rendered.text);
  const removed = lastLine.slice(keep);
  const inserted = rendered.text.slice(keep);
  const edit = (): void => {
    if (removed.length > 0) text.delete(lineStart + keep, removed.length);
    if (inserted.length > 0) text.insert(lineStart + keep, inserted);
  };
  // One transaction, so peers get one update per fragment.
  if (text.doc) text.doc.transact(edit);
  else edit();
  const full = lineStart + rendered.text.length;
  const newline = rendered.text.lastIndexOf('\n');
  const next: StreamTail = {
    column: rendered.column,
    length: full,
    lineStart: newline < 0 ? lineStart : lineStart + newline + 1,
    lastLine: newline < 0 ? rendered.text : rendered.text.slice(newline + 1),
  };
  return { tail: next, removed, inserted };
}

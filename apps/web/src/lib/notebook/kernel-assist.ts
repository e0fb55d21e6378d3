import { stripAnsi } from './ansi.ts';

/** `notebook.complete`'s answer: offsets are UTF-16 offsets into the code sent. */
export interface KernelCompletion {
  matches: string[];
  cursorStart: number;
  cursorEnd: number;
  metadata: Record<string, unknown>;
}

/** `notebook.inspect`'s answer: a MIME bundle. */
export interface KernelInspection {
  found: boolean;
  data: Record<string, unknown>;
}

/** What kind of thing a suggestion is; the editor picks its icon from it. */
export type SuggestionKind =
  | 'function'
  | 'class'
  | 'module'
  | 'keyword'
  | 'variable'
  | 'property'
  | 'file'
  | 'magic'
  | 'text';

/** One suggestion, replacing `start..end` (UTF-16 offsets) of the code. */
export interface Suggestion {
  label: string;
  kind: SuggestionKind;
  /** The signature IPython reports for callables, e.g. `(obj, /)`. */
  detail: string;
  start: number;
  end: number;
  /** Keeps the kernel's order (IPython ranks public names before `_private` ones). */
  sortText: string;
}

/** A 1-based line and a 1-based UTF-16 column, as Monaco counts them. */
export interface LineColumn {
  lineNumber: number;
  column: number;
}

/** Where UTF-16 `offset` of `code` is, as line and column; `\r\n` counts as one line break. */
export function positionAt(code: string, offset: number): LineColumn {
  const end = Math.max(0, Math.min(offset, code.length));
  let lineNumber = 1;
  let lineStart = 0;
  for (let i = 0; i < end; i++) {
    if (code.charCodeAt(i) === 10) {
      lineNumber++;
      lineStart = i + 1;
    }
  }
  // Between the \r and \n of a line break is still the end of that line.
  const inBreak = code[end - 1] === '\r' && code[end] === '\n' ? 1 : 0;
  return { lineNumber, column: end - lineStart + 1 - inBreak };
}

const TYPES_KEY = '_jupyter_types_experimental';

const KINDS: Record<string, SuggestionKind> = {
  function: 'function',
  method: 'function',
  class: 'class',
  type: 'class',
  module: 'module',
  keyword: 'keyword',
  instance: 'variable',
  statement: 'variable',
  param: 'variable',
  property: 'property',
  path: 'file',
  magic: 'magic',
};

interface TypedMatch {
  text: string;
  type?: unknown;
  signature?: unknown;
  start?: unknown;
  end?: unknown;
}

/** The kernel's matches as editor suggestions, each with the range it replaces; duplicates dropped. */
export function toSuggestions(result: KernelCompletion): Suggestion[] {
  const typed = result.metadata[TYPES_KEY];
  const entries: TypedMatch[] =
    Array.isArray(typed) && typed.length > 0
      ? typed.filter((entry): entry is TypedMatch => typeof entry?.text === 'string')
      : result.matches.map((text) => ({ text }));
  const seen = new Set<string>();
  const width = String(entries.length).length;
  const suggestions: Suggestion[] = [];
  for (const entry of entries) {
    if (seen.has(entry.text)) continue;
    seen.add(entry.text);
    const start = typeof entry.start === 'number' ? entry.start : result.cursorStart;
    const end = typeof entry.end === 'number' ? entry.end : result.cursorEnd;
    const type = typeof entry.type === 'string' ? entry.type : '';
    suggestions.push({
      label: entry.text,
      kind: KINDS[type] ?? (entry.text.startsWith('%') ? 'magic' : 'text'),
      detail: typeof entry.signature === 'string' && entry.signature ? entry.signature : type,
      start: Math.min(start, result.cursorStart),
      end: Math.max(end, result.cursorEnd),
      sortText: String(suggestions.length).padStart(width, '0'),
    });
  }
  return suggestions;
}

/** What a hover shows for an inspection: Markdown, or the plain text (without ANSI colours) as code. */
export function hoverMarkdown(result: KernelInspection): string | null {
  if (!result.found) return null;
  const markdown = result.data['text/markdown'];
  if (typeof markdown === 'string' && markdown.trim()) return markdown;
  const plain = result.data['text/plain'];
  if (typeof plain !== 'string' || !plain.trim()) return null;
  const text = stripAnsi(plain).trimEnd();
  // A fence longer than any run of backticks in the text, so the docs cannot close it early.
  const longest = Math.max(2, ...[...text.matchAll(/`+/g)].map((run) => run[0].length));
  const fence = '`'.repeat(longest + 1);
  return `${fence}text\n${text}\n${fence}`;
}

import { cloneJson, type NotebookJson } from '../document/types.ts';
import { getNumberLexemes, lexemeTree } from './number-lexemes.ts';
import { stripTransient } from './parse.ts';
import { compareCodePoints, type JsonLayout, pythonJsonDumps } from './python-json.ts';
import { serializeIpynb } from './serialize.ts';
import { splitCellLines } from './split-lines.ts';

/**
 * How an .ipynb file was laid out by the tool that wrote it: indentation, key order, ASCII escaping
 * and the final newline. Kiln writes a changed notebook the same way, so a git diff of the download
 * shows the edit rather than every line.
 */
export interface IpynbFileStyle {
  layout: JsonLayout;
  finalNewline: boolean;
  /** Multi-line strings written as lists of lines, as nbformat does (some tools write one string). */
  splitLines: boolean;
}

/** Whether the file stored a cell source as one string: nbformat always writes a list of lines. */
function keepsStringsWhole(parsed: unknown): boolean {
  const cells = (parsed as { cells?: unknown }).cells;
  if (!Array.isArray(cells)) return false;
  return cells.some((cell) => typeof (cell as { source?: unknown } | null)?.source === 'string');
}

/** Where each key of each object was, by path with array indices as `*`: the merged order seen in the file. */
function keyOrders(value: unknown, path: string, orders: Map<string, string[]>): boolean {
  let sorted = true;
  if (Array.isArray(value)) {
    for (const item of value) sorted = keyOrders(item, `${path}/*`, orders) && sorted;
  } else if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value);
    const order = orders.get(path) ?? [];
    keys.forEach((key, index) => {
      if (index > 0 && compareCodePoints(keys[index - 1] as string, key) > 0) sorted = false;
      if (order.includes(key)) return;
      // A key not seen before goes right after the key that preceded it here.
      const after = index === 0 ? -1 : order.indexOf(keys[index - 1] as string);
      order.splice(after + 1, 0, key);
    });
    orders.set(path, order);
    for (const key of keys) {
      sorted = keyOrders((value as Record<string, unknown>)[key], `${path}/${key}`, orders) && sorted;
    }
  }
  return sorted;
}

/**
 * The style of an .ipynb file's text, or undefined when it is written as nbformat writes (or in a
 * layout Kiln does not reproduce, such as everything on one line): then nbformat's form is used.
 */
export function detectIpynbStyle(text: string): IpynbFileStyle | undefined {
  const indent = /^\{\r?\n([ \t]+)"/.exec(text)?.[1];
  if (!indent || /\r\n/.test(text)) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  const orders = new Map<string, string[]>();
  const sorted = keyOrders(parsed, '', orders);
  // ensure_ascii=True files escape non-ASCII characters (\u escapes of controls say nothing) and hold none raw.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the ASCII range is the point
  const rawNonAscii = /[^\x00-\x7f]/.test(text);
  const asciiOnly =
    !rawNonAscii &&
    /\\u(00[89a-fA-F][0-9a-fA-F]|0[1-9a-fA-F][0-9a-fA-F]{2}|[1-9a-fA-F][0-9a-fA-F]{3})/.test(text);
  const finalNewline = text.endsWith('\n');
  const splitLines = !keepsStringsWhole(parsed);
  if (indent === ' ' && sorted && !asciiOnly && finalNewline && splitLines) return undefined;
  const orderKeys = sorted
    ? undefined
    : (keys: string[], path: string) => {
        const order = orders.get(path);
        if (!order) return keys;
        const known = order.filter((key) => keys.includes(key));
        return [...known, ...keys.filter((key) => !order.includes(key))];
      };
  return { layout: { indent, orderKeys, asciiOnly }, finalNewline, splitLines };
}

/**
 * Write a notebook as nbformat would (lines split, transient keys dropped) but laid out like
 * `original`, the file it was imported from; nbformat's own layout when that file used it.
 */
export function serializeIpynbLike(nb: NotebookJson, original: string): string {
  const style = detectIpynbStyle(original);
  if (!style) return serializeIpynb(nb);
  const copy = cloneJson(nb as unknown as Record<string, never>) as unknown as NotebookJson;
  if (style.splitLines) {
    for (const cell of copy.cells) splitCellLines(cell as unknown as Parameters<typeof splitCellLines>[0]);
  }
  stripTransient(copy);
  const text = pythonJsonDumps(copy, lexemeTree(getNumberLexemes(nb)), style.layout);
  return style.finalNewline ? `${text}\n` : text;
}

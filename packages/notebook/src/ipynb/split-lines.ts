import { isJsonObject, type JsonObject, type JsonValue } from '../document/types.ts';

// Every boundary CPython's str.splitlines() recognises.
// biome-ignore lint/suspicious/noControlCharactersInRegex: these control characters are line boundaries in Python
const LINE_BOUNDARY = /\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]/g;

/** `text.splitlines(True)` in Python: keeps the line ends; an empty string gives an empty list. */
export function pySplitLinesKeepEnds(text: string): string[] {
  const lines: string[] = [];
  let start = 0;
  LINE_BOUNDARY.lastIndex = 0;
  for (let match = LINE_BOUNDARY.exec(text); match; match = LINE_BOUNDARY.exec(text)) {
    const end = match.index + match[0].length;
    lines.push(text.slice(start, end));
    start = end;
  }
  if (start < text.length) lines.push(text.slice(start));
  return lines;
}

/** nbformat leaves `application/json` and `application/*+json` values alone (they are real JSON). */
export function isJsonMime(mime: string): boolean {
  return mime === 'application/json' || (mime.startsWith('application/') && mime.endsWith('+json'));
}

const NON_TEXT_SPLIT_MIMES = new Set(['application/javascript', 'image/svg+xml']);

function isStringList(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((line) => typeof line === 'string');
}

/** nbformat's `_rejoin_mimebundle`: join list-of-strings values of non-JSON mime types. */
export function rejoinMimeBundle(bundle: JsonObject): void {
  for (const [mime, value] of Object.entries(bundle)) {
    if (!isJsonMime(mime) && isStringList(value)) bundle[mime] = value.join('');
  }
}

/** nbformat's `_split_mimebundle`: split `text/*`, SVG and JavaScript strings into lines. */
export function splitMimeBundle(bundle: JsonObject): void {
  for (const [mime, value] of Object.entries(bundle)) {
    if (typeof value === 'string' && (mime.startsWith('text/') || NON_TEXT_SPLIT_MIMES.has(mime))) {
      bundle[mime] = pySplitLinesKeepEnds(value);
    }
  }
}

type RawCell = Record<string, JsonValue>;

/** nbformat's `rejoin_lines` on one raw cell (in place). */
export function rejoinCellLines(cell: RawCell): void {
  if (isStringList(cell.source)) cell.source = cell.source.join('');
  if (isJsonObject(cell.attachments)) {
    for (const bundle of Object.values(cell.attachments)) if (isJsonObject(bundle)) rejoinMimeBundle(bundle);
  }
  if (cell.cell_type !== 'code' || !Array.isArray(cell.outputs)) return;
  for (const output of cell.outputs) {
    if (!isJsonObject(output)) continue;
    const type = output.output_type;
    if (type === 'execute_result' || type === 'display_data') {
      if (isJsonObject(output.data)) rejoinMimeBundle(output.data);
    } else if (type && isStringList(output.text)) {
      output.text = output.text.join('');
    }
  }
}

/** nbformat's `split_lines` on one cell (in place): what makes files diff line by line. */
export function splitCellLines(cell: RawCell): void {
  if (typeof cell.source === 'string') cell.source = pySplitLinesKeepEnds(cell.source);
  if (isJsonObject(cell.attachments)) {
    for (const bundle of Object.values(cell.attachments)) if (isJsonObject(bundle)) splitMimeBundle(bundle);
  }
  if (cell.cell_type !== 'code' || !Array.isArray(cell.outputs)) return;
  for (const output of cell.outputs) {
    if (!isJsonObject(output)) continue;
    const type = output.output_type;
    if (type === 'execute_result' || type === 'display_data') {
      if (isJsonObject(output.data)) splitMimeBundle(output.data);
    } else if (type === 'stream' && typeof output.text === 'string') {
      output.text = pySplitLinesKeepEnds(output.text);
    }
  }
}

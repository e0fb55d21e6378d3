import { isJsonObject, type JsonObject, type JsonValue } from '../document/types.ts';
import { notebookFormatError } from './errors.ts';
import { pySplitLinesKeepEnds } from './split-lines.ts';

/**
 * nbformat 2 and 3 notebooks upgraded to nbformat 4 the way `nbformat.reads(text, as_version=4)` does
 * (nbformat/v3/convert.py, then v4/convert.py): worksheets flattened, heading cells made markdown,
 * `input`/`prompt_number` become `source`/`execution_count`, pyout/pyerr become execute_result/error,
 * v3 mime aliases (`png`, `html`, ...) become mime types and `language` is dropped. The result is
 * nbformat 4.5; cell ids are given by the caller as for any 4.5 file without them.
 */

type Raw = Record<string, JsonValue>;

const MIME_ALIASES: [string, string][] = [
  ['text', 'text/plain'],
  ['html', 'text/html'],
  ['svg', 'image/svg+xml'],
  ['png', 'image/png'],
  ['jpeg', 'image/jpeg'],
  ['latex', 'text/latex'],
  ['json', 'application/json'],
  ['javascript', 'application/javascript'],
];

/** Output keys v2 and v3 wrote as lists of lines. */
const MULTILINE_OUTPUT_KEYS = ['text', 'html', 'svg', 'latex', 'javascript', 'json'];

function isStringList(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((line) => typeof line === 'string');
}

/** v3's `_join_lines`: lists from splitlines(True) are concatenated, older ones joined with "\n". */
function joinV3(lines: string[]): string {
  return lines[0]?.endsWith('\n') || lines[0]?.endsWith('\r') ? lines.join('') : lines.join('\n');
}

function rejoin(cell: Raw, join: (lines: string[]) => string): void {
  if (cell.cell_type === 'code') {
    if (isStringList(cell.input)) cell.input = join(cell.input);
    for (const output of Array.isArray(cell.outputs) ? cell.outputs : []) {
      if (!isJsonObject(output)) continue;
      for (const key of MULTILINE_OUTPUT_KEYS) {
        const value = output[key];
        if (isStringList(value)) output[key] = join(value);
      }
    }
  } else {
    for (const key of ['source', 'rendered']) {
      const value = cell[key];
      if (isStringList(value)) cell[key] = join(value);
    }
  }
}

function toMimeKeys(bundle: JsonObject): void {
  for (const [alias, mime] of MIME_ALIASES) {
    if (alias in bundle) {
      bundle[mime] = bundle[alias] as JsonValue;
      delete bundle[alias];
    }
  }
}

function upgradeOutput(output: Raw, path: string): Raw {
  const type = output.output_type;
  if (type === 'pyout' || type === 'display_data') {
    const upgraded: Raw = { output_type: type === 'pyout' ? 'execute_result' : 'display_data' };
    const metadata = isJsonObject(output.metadata) ? output.metadata : {};
    if (type === 'pyout') upgraded.execution_count = output.prompt_number ?? null;
    const data: JsonObject = {};
    for (const [key, value] of Object.entries(output)) {
      if (key !== 'output_type' && key !== 'metadata' && key !== 'prompt_number') data[key] = value;
    }
    toMimeKeys(data);
    toMimeKeys(metadata);
    const json = data['application/json'];
    if (typeof json === 'string') {
      try {
        data['application/json'] = JSON.parse(json) as JsonValue;
      } catch {
        throw notebookFormatError('"json" output is not valid JSON', path);
      }
    }
    upgraded.data = data;
    upgraded.metadata = metadata;
    return upgraded;
  }
  if (type === 'pyerr') return { ...output, output_type: 'error' };
  if (type === 'stream') {
    const { stream, ...rest } = output;
    return { ...rest, name: stream ?? 'stdout' };
  }
  return output;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: these control characters are line boundaries in Python
const LINE_END = /(\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029])$/;

/** Python's `" ".join(text.splitlines())`. */
function singleLine(text: string): string {
  return pySplitLinesKeepEnds(text)
    .map((line) => line.replace(LINE_END, ''))
    .join(' ');
}

function upgradeCell(cell: Raw, path: string): Raw {
  const metadata = isJsonObject(cell.metadata) ? cell.metadata : {};
  if (cell.cell_type === 'code') {
    const { language: _language, collapsed, input, prompt_number, outputs, ...rest } = cell;
    if (collapsed !== undefined) metadata.collapsed = collapsed;
    return {
      ...rest,
      metadata,
      source: input ?? '',
      execution_count: prompt_number ?? null,
      outputs: (Array.isArray(outputs) ? outputs : []).map((output, index) => {
        if (!isJsonObject(output)) throw notebookFormatError('an output must be a JSON object', path);
        return upgradeOutput(output, `${path}.outputs[${index}]`);
      }),
    };
  }
  if (cell.cell_type === 'heading') {
    const { level, ...rest } = cell;
    const hashes = '#'.repeat(typeof level === 'number' ? level : 1);
    const source = typeof cell.source === 'string' ? cell.source : '';
    return { ...rest, metadata, cell_type: 'markdown', source: `${hashes} ${singleLine(source)}` };
  }
  if (cell.cell_type === 'html') return { ...cell, metadata, cell_type: 'markdown' };
  return { ...cell, metadata };
}

/** Upgrade a parsed nbformat 2 or 3 notebook to nbformat 4.5 in place of the raw object. */
export function upgradeToV4(raw: Raw, major: number): Raw {
  if (!Array.isArray(raw.worksheets)) throw notebookFormatError('"worksheets" must be a list');
  const metadata = isJsonObject(raw.metadata) ? raw.metadata : {};
  const cells: Raw[] = [];
  raw.worksheets.forEach((worksheet, w) => {
    if (!isJsonObject(worksheet) || !Array.isArray(worksheet.cells)) {
      throw notebookFormatError('a worksheet must hold a list of cells', `worksheets[${w}]`);
    }
    worksheet.cells.forEach((cell, c) => {
      const path = `worksheets[${w}].cells[${c}]`;
      if (!isJsonObject(cell)) throw notebookFormatError('a cell must be a JSON object', path);
      rejoin(cell, major === 2 ? (lines) => lines.join('\n') : joinV3);
      delete cell.trusted;
      cells.push(upgradeCell(cell, path));
    });
  });
  delete metadata.name;
  delete metadata.signature;
  const { worksheets: _worksheets, orig_nbformat: _o, orig_nbformat_minor: _m, ...rest } = raw;
  return { ...rest, metadata, nbformat: 4, nbformat_minor: 5, cells };
}

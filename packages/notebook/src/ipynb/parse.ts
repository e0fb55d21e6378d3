import { deterministicCellId } from '../document/cell-ids.ts';
import { type CellJson, isJsonObject, type JsonValue, type NotebookJson } from '../document/types.ts';
import { notebookFormatError } from './errors.ts';
import { type NumberLexeme, scanJson } from './json-scan.ts';
import { setNumberLexemes } from './number-lexemes.ts';
import { rejoinCellLines } from './split-lines.ts';
import { upgradeToV4 } from './upgrade.ts';

/** Oldest minor version of nbformat 4 we read; newer minors are read as 4.5 (nbformat does the same). */
export const MIN_NBFORMAT_MINOR = 0;

function parseJson(text: string): { value: unknown; numbers: NumberLexeme[] } {
  const scan = scanJson(text);
  if (!scan.ok) {
    const { problem } = scan;
    throw notebookFormatError(
      `the file is not valid JSON: ${problem.message} (line ${problem.line}, column ${problem.column})`,
    );
  }
  return { value: JSON.parse(text), numbers: scan.numbers };
}

function checkVersion(raw: Record<string, unknown>): { major: number; minor: number } {
  const major = raw.nbformat;
  if (major === undefined) {
    throw notebookFormatError('the file has no "nbformat" version, so it is not a Jupyter notebook');
  }
  if (typeof major !== 'number' || !Number.isInteger(major)) {
    throw notebookFormatError('"nbformat" must be an integer version number');
  }
  if (major < 2)
    throw notebookFormatError(`nbformat ${major} is older than any Jupyter notebook Kiln reads (2-4)`);
  if (major < 4) return { major, minor: 0 };
  if (major > 4)
    throw notebookFormatError(`nbformat ${major} is newer than this version of Kiln understands (4)`);
  const minor = raw.nbformat_minor;
  if (typeof minor !== 'number' || !Number.isInteger(minor) || minor < MIN_NBFORMAT_MINOR) {
    throw notebookFormatError('"nbformat_minor" must be a non-negative integer');
  }
  return { major, minor };
}

function checkCell(cell: unknown, path: string): asserts cell is Record<string, JsonValue> {
  if (!isJsonObject(cell)) throw notebookFormatError('a cell must be a JSON object', path);
  if (typeof cell.cell_type !== 'string') throw notebookFormatError('"cell_type" must be a string', path);
  if (!isJsonObject(cell.metadata)) throw notebookFormatError('"metadata" must be an object', path);
  const source = cell.source;
  const sourceOk =
    typeof source === 'string' ||
    (Array.isArray(source) && source.every((line) => typeof line === 'string')) ||
    (source === undefined && !['code', 'markdown', 'raw'].includes(cell.cell_type));
  if (!sourceOk) throw notebookFormatError('"source" must be a string or a list of strings', path);
  if ('id' in cell && typeof cell.id !== 'string') throw notebookFormatError('"id" must be a string', path);
  if ('attachments' in cell && !isJsonObject(cell.attachments)) {
    throw notebookFormatError('"attachments" must be an object', path);
  }
  if (cell.cell_type !== 'code') return;
  if (cell.outputs !== undefined && !Array.isArray(cell.outputs)) {
    throw notebookFormatError('"outputs" must be a list', path);
  }
  const count = cell.execution_count;
  if (count !== undefined && count !== null && !(typeof count === 'number' && Number.isInteger(count))) {
    throw notebookFormatError('"execution_count" must be an integer or null', path);
  }
  for (const [i, output] of (cell.outputs ?? []).entries()) {
    const outputPath = `${path}.outputs[${i}]`;
    if (!isJsonObject(output)) throw notebookFormatError('an output must be a JSON object', outputPath);
    if (typeof output.output_type !== 'string') {
      throw notebookFormatError('"output_type" must be a string', outputPath);
    }
    if (output.output_type === 'stream') {
      const text = output.text;
      if (
        typeof text !== 'string' &&
        !(Array.isArray(text) && text.every((line) => typeof line === 'string'))
      ) {
        throw notebookFormatError('stream "text" must be a string or a list of strings', outputPath);
      }
    }
  }
}

/**
 * nbformat repairs 4.5+ cell ids on read: missing ids are filled first, then later duplicates get
 * new ids. We do the same in the same order, with ids derived from the cell so reloading a file
 * gives the same ids.
 */
function repairCellIds(cells: CellJson[]): void {
  const taken = new Set(cells.flatMap((cell) => (typeof cell.id === 'string' ? [cell.id] : [])));
  const seed = (cell: CellJson, index: number): string =>
    `${index}\u0000${cell.cell_type}\u0000${cell.source ?? ''}`;
  cells.forEach((cell, index) => {
    if (cell.id !== undefined) return;
    cell.id = deterministicCellId(seed(cell, index), taken);
    taken.add(cell.id);
  });
  const seen = new Set<string>();
  cells.forEach((cell, index) => {
    if (seen.has(cell.id as string)) {
      cell.id = deterministicCellId(`${seed(cell, index)}\u0000duplicate`, taken);
      taken.add(cell.id);
    }
    seen.add(cell.id as string);
  });
}

/** Drop what nbformat's `strip_transient` drops on read and write. */
export function stripTransient(nb: {
  metadata: Record<string, unknown>;
  cells: { metadata: Record<string, unknown> }[];
}): void {
  delete nb.metadata.orig_nbformat;
  delete nb.metadata.orig_nbformat_minor;
  delete nb.metadata.signature;
  for (const cell of nb.cells) delete cell.metadata.trusted;
}

/** Notebooks parseIpynb upgraded from nbformat 2 or 3, with the major version of their file. */
const upgradedFrom = new WeakMap<object, number>();

/** The nbformat major version of the file a parsed notebook came from (4 unless it was upgraded). */
export function fileNbformat(nb: NotebookJson): number {
  return upgradedFrom.get(nb) ?? 4;
}

/**
 * Read an .ipynb file (nbformat 4.0-4.5; newer 4.x minors are read like 4.5) into the in-memory
 * form nbformat uses: multi-line strings joined, transient keys dropped, 4.5 cell ids repaired.
 * nbformat 2 and 3 files are upgraded to 4.5 as nbformat's converter does. Throws a
 * VALIDATION_FAILED DomainError naming the problem for anything else.
 */
export function parseIpynb(text: string): NotebookJson {
  const parsed = parseJson(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  if (!isJsonObject(parsed.value)) {
    throw notebookFormatError('the top level of a notebook must be a JSON object');
  }
  let raw = parsed.value;
  let numbers = parsed.numbers;
  let { minor } = checkVersion(raw);
  const major = raw.nbformat as number;
  if (major < 4) {
    raw = upgradeToV4(raw, major);
    minor = 5;
    // Number spellings are keyed by their path in the file, which the upgrade moved.
    numbers = [];
  }
  if (!Array.isArray(raw.cells)) throw notebookFormatError('"cells" must be a list');
  if (!isJsonObject(raw.metadata)) throw notebookFormatError('"metadata" must be an object');
  raw.cells.forEach((cell, index) => {
    checkCell(cell, `cells[${index}]`);
    rejoinCellLines(cell);
  });
  const nb = raw as unknown as NotebookJson;
  stripTransient(nb);
  if (minor >= 5) repairCellIds(nb.cells);
  setNumberLexemes(nb, numbers);
  if (major < 4) upgradedFrom.set(nb, major);
  return nb;
}

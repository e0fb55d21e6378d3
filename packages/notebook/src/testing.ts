import { readFileSync } from 'node:fs';
import path from 'node:path';

/** A notebook file the project owns, written for tests to cover one part of the format. */
export interface NotebookFixture {
  file: string;
  /** The file's own `nbformat.nbformat_minor` (`2` for nbformat 2, which has no minor). */
  nbformat: string;
  covers: string;
  /** Why `nbformat.write` would not reproduce the file byte for byte; absent when it would. */
  nonCanonical?: string;
}

const fixturesDir = path.resolve(import.meta.dirname, '../test/fixtures');

/** Every fixture under packages/notebook/test/fixtures, nbformat 4 first. */
export const notebookFixtures: readonly NotebookFixture[] = [
  {
    file: 'nbformat-4.0.ipynb',
    nbformat: '4.0',
    covers: 'every output kind, png, javascript, ANSI traceback',
  },
  { file: 'nbformat-4.1.ipynb', nbformat: '4.1', covers: 'CJK and emoji, html table, latex' },
  { file: 'attachments.ipynb', nbformat: '4.2', covers: 'markdown attachments, one name with svg and png' },
  { file: 'nbformat-4.3.ipynb', nbformat: '4.3', covers: 'raw cell, tags, collapsed, source_hidden' },
  { file: 'nbformat-4.4.ipynb', nbformat: '4.4', covers: 'execution timings, floats 1.0 and 1e-05, svg' },
  { file: 'nbformat-4.5.ipynb', nbformat: '4.5', covers: 'cell ids, markdown output' },
  { file: 'widgets.ipynb', nbformat: '4.4', covers: 'ipywidgets saved state and widget views' },
  {
    file: 'ids-missing-and-repeated.ipynb',
    nbformat: '4.5',
    covers: '4.5 cells without an id and with a repeated id',
    nonCanonical: 'missing and repeated 4.5 cell ids are given new ids',
  },
  {
    file: 'unsorted-keys-indent-2.ipynb',
    nbformat: '4.0',
    covers: 'Colab style: keys in insertion order, two-space indent, no final newline',
    nonCanonical: 'unsorted keys, two-space indent, no final newline',
  },
  {
    file: 'indent-4.ipynb',
    nbformat: '4.5',
    covers: 'four-space indent',
    nonCanonical: 'four-space indent',
  },
  {
    file: 'indent-tabs.ipynb',
    nbformat: '4.4',
    covers: 'tab indent, non-ASCII escaped as \\u',
    nonCanonical: 'tab indent',
  },
  {
    file: 'non-canonical-values.ipynb',
    nbformat: '4.4',
    covers: 'png as a list of lines, html list ending in ""',
    nonCanonical: 'nbformat writes base64 as one string and drops the trailing "" line',
  },
  {
    file: 'nbformat-3.ipynb',
    nbformat: '3.0',
    covers: 'two worksheets, heading cells, pyout, pyerr, stream, v3 mime keys, language, collapsed',
  },
  { file: 'nbformat-3-empty-worksheet.ipynb', nbformat: '3.0', covers: 'one worksheet with no cells' },
  { file: 'nbformat-2.ipynb', nbformat: '2', covers: 'no nbformat_minor, unsplit strings, pyout' },
];

/** The absolute path of a fixture, for uploads in browser tests. */
export function notebookFixturePath(file: string): string {
  return path.join(fixturesDir, file);
}

/** A fixture's text, exactly as stored. */
export function readNotebookFixture(file: string): string {
  return readFileSync(notebookFixturePath(file), 'utf8');
}

import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type * as Y from 'yjs';
import { insertCell, moveCell } from '../document/cells.ts';
import { setCellMetadata } from '../document/metadata.ts';
import { getCells, upgradeToNbformat45 } from '../document/notebook-doc.ts';
import { OutputWriter } from '../outputs/output-writer.ts';
import { iopub } from '../test-support/peers.ts';
import { ipynbToYDoc, parseIpynb, serializeIpynb, yDocToIpynb } from './index.ts';

const repoRoot = path.resolve(import.meta.dirname, '../../../..');
const corpusDir = path.resolve(repoRoot, '../shared/notebooks');

interface Entry {
  file: string;
  nbformat: string;
}

const entries: Entry[] = readFileSync(path.join(corpusDir, 'INDEX.tsv'), 'utf8')
  .trim()
  .split('\n')
  .slice(1)
  .map((line) => {
    const [file, , , , nbformat] = line.split('\t') as string[];
    return { file: file as string, nbformat: nbformat as string };
  });

const v4 = entries.filter((entry) => entry.nbformat.startsWith('4.'));
const older = entries.filter((entry) => !entry.nbformat.startsWith('4.'));

/** Files whose bytes change on export, and why: in each case nbformat's own writer changes them the same way. */
const NOT_CANONICAL: Record<string, string> = {
  'huggingface__notebooks__training_example.ipynb': 'two-space indent, unsorted keys, 4.5 cells without ids',
  'jupyter__nbconvert__attachment.ipynb':
    'an image/svg+xml attachment stored as one string (nbformat writes a list of lines)',
  'jupyter__nbformat__test4.ipynb':
    'image/png stored as a list of lines (nbformat writes base64 as one string)',
  'jupyter__nbformat__test4plus.ipynb': 'unsorted keys',
  'jupyterlab__jupyter-renderers__plotly.ipynb': 'unsorted keys',
  'jupyterlab__jupyterlab__css_js_injection.ipynb': 'text/html lists ending in an empty string ""',
  'jupyterlab__jupyterlab__markdownCells.ipynb': 'four-space indent',
  'jupyterlab__jupyterlab__simple_test.ipynb': 'unsorted keys',
  'jupyterlab__jupyterlab__windowed_notebook.ipynb': 'duplicated 4.5 cell ids (later copies get new ids)',
};

interface Reference {
  rewrite: string;
  original_errors: string[];
  our_errors: string[];
}

/** A 4.4 notebook after a working session: cells added and moved, metadata set, code run with every kind of output. */
function editedNotebook(upgrade: boolean): string {
  const doc = ipynbToYDoc(
    parseIpynb(readFileSync(path.join(corpusDir, 'jupyterlab__jupyterlab__simple_test.ipynb'), 'utf8')),
  );
  const cell = insertCell(doc, { cell_type: 'code', source: 'for i in tqdm(range(3)): display(i)' }, 1);
  setCellMetadata(cell, 'tags', ['added']);
  const cellId = cell.get('id') as string;
  moveCell(doc, 1, 3);
  const writer = new OutputWriter({ doc, cellId });
  writer.begin();
  writer.handle(iopub('execute_input', { execution_count: 12 }));
  writer.handle(iopub('stream', { name: 'stderr', text: '0%\r50%\r100%\n' }));
  writer.handle(
    iopub('display_data', {
      data: { 'text/plain': '0', 'text/html': '<b>0</b>\n' },
      metadata: {},
      transient: { display_id: 'd' },
    }),
  );
  writer.handle(
    iopub('update_display_data', {
      data: { 'text/plain': '2' },
      metadata: {},
      transient: { display_id: 'd' },
    }),
  );
  writer.handle(
    iopub('execute_result', { execution_count: 12, data: { 'text/plain': 'None' }, metadata: {} }),
  );
  writer.handle(
    iopub('error', {
      ename: 'KeyboardInterrupt',
      evalue: '',
      traceback: ['\u001b[0;31mKeyboardInterrupt\u001b[0m'],
    }),
  );
  writer.end();
  (getCells(doc).get(0).get('source') as Y.Text).insert(0, 'Ünïcode ✓ ');
  if (upgrade) upgradeToNbformat45(doc);
  return serializeIpynb(yDocToIpynb(doc));
}

const edited = [editedNotebook(false), editedNotebook(true)];
const editedReferences: Reference[] = [];
const originals = new Map<string, string>();
const exported = new Map<string, string>();
const references = new Map<string, Reference>();

beforeAll(() => {
  for (const { file } of v4) {
    const text = readFileSync(path.join(corpusDir, file), 'utf8');
    originals.set(file, text);
    exported.set(file, serializeIpynb(yDocToIpynb(ipynbToYDoc(parseIpynb(text)))));
  }
  const jobs = v4.map(({ file }) => ({ original: originals.get(file), ours: exported.get(file) }));
  for (const text of edited) jobs.push({ original: text, ours: text });
  const python = spawnSync('/usr/bin/python3', [path.join(import.meta.dirname, 'nbformat-rewrite.py')], {
    input: JSON.stringify(jobs),
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (python.status !== 0) throw new Error(`nbformat reference failed: ${python.stderr}`);
  const results = JSON.parse(python.stdout) as Reference[];
  for (const [index, { file }] of v4.entries()) references.set(file, results[index] as Reference);
  editedReferences.push(...results.slice(v4.length));
});

describe('the shared notebook corpus', () => {
  it('covers nbformat 4 files and older ones', () => {
    expect(v4.length).toBeGreaterThan(15);
    expect(older.length).toBeGreaterThan(0);
  });

  it.each(v4.map((entry) => entry.file))('%s exports exactly as nbformat would write it', (file) => {
    const ours = exported.get(file);
    const reference = references.get(file) as Reference;
    expect(ours).toBe(reference.rewrite);
    if (reference.original_errors.length === 0) expect(reference.our_errors).toEqual([]);
    if (file in NOT_CANONICAL) expect(ours).not.toBe(originals.get(file));
    else expect(ours).toBe(originals.get(file));
  });

  it('an edited 4.4 notebook saves as valid 4.4 without ids, or as valid 4.5 with ids once upgraded', () => {
    const [kept, upgraded] = edited.map((text) => JSON.parse(text));
    expect(kept.nbformat_minor).toBe(4);
    expect(kept.cells.some((cell: object) => 'id' in cell)).toBe(false);
    expect(upgraded.nbformat_minor).toBe(5);
    expect(upgraded.cells.every((cell: { id?: string }) => typeof cell.id === 'string')).toBe(true);
    expect(kept.cells[3].outputs).toEqual([
      { name: 'stderr', output_type: 'stream', text: ['100%\n'] },
      { data: { 'text/plain': ['2'] }, metadata: {}, output_type: 'display_data' },
      { data: { 'text/plain': ['None'] }, execution_count: 12, metadata: {}, output_type: 'execute_result' },
      {
        ename: 'KeyboardInterrupt',
        evalue: '',
        output_type: 'error',
        traceback: ['\u001b[0;31mKeyboardInterrupt\u001b[0m'],
      },
    ]);
    edited.forEach((text, index) => {
      expect(editedReferences[index]?.our_errors).toEqual([]);
      expect(editedReferences[index]?.rewrite).toBe(text);
    });
  });

  it.each(older.map((entry) => entry.file))('%s (nbformat < 4) is refused with a clear message', (file) => {
    const text = readFileSync(path.join(corpusDir, file), 'utf8');
    expect(() => parseIpynb(text)).toThrow(/nbformat [23] notebook; only nbformat 4 is supported/);
  });
});

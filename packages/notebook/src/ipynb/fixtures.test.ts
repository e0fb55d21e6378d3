import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type * as Y from 'yjs';
import { insertCell, moveCell } from '../document/cells.ts';
import { setCellMetadata } from '../document/metadata.ts';
import { getCells, upgradeToNbformat45 } from '../document/notebook-doc.ts';
import { OutputWriter } from '../outputs/output-writer.ts';
import { iopub } from '../test-support/peers.ts';
import { notebookFixtures, readNotebookFixture } from '../testing.ts';
import { ipynbToYDoc, parseIpynb, serializeIpynb, yDocToIpynb } from './index.ts';

const v4 = notebookFixtures.filter((fixture) => fixture.nbformat.startsWith('4.'));
const older = notebookFixtures.filter((fixture) => !fixture.nbformat.startsWith('4.'));

interface Reference {
  rewrite: string;
  original_errors: string[];
  our_errors: string[];
}

/** A 4.4 notebook after a working session: cells added and moved, metadata set, code run with every kind of output. */
function editedNotebook(upgrade: boolean): string {
  const doc = ipynbToYDoc(parseIpynb(readNotebookFixture('nbformat-4.4.ipynb')));
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
const upgraded = new Map<string, string>();

beforeAll(() => {
  for (const { file } of v4) {
    const text = readNotebookFixture(file);
    originals.set(file, text);
    exported.set(file, serializeIpynb(yDocToIpynb(ipynbToYDoc(parseIpynb(text)))));
  }
  for (const { file } of older) {
    upgraded.set(file, serializeIpynb(yDocToIpynb(ipynbToYDoc(parseIpynb(readNotebookFixture(file))))));
  }
  const jobs = v4.map(({ file }) => ({
    original: originals.get(file),
    ours: exported.get(file),
    upgrade: false,
  }));
  for (const text of edited) jobs.push({ original: text, ours: text, upgrade: false });
  for (const { file } of older) {
    jobs.push({ original: readNotebookFixture(file), ours: upgraded.get(file), upgrade: true });
  }
  const python = spawnSync('/usr/bin/python3', [path.join(import.meta.dirname, 'nbformat-rewrite.py')], {
    input: JSON.stringify(jobs),
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (python.status !== 0) throw new Error(`nbformat reference failed: ${python.stderr}`);
  const results = JSON.parse(python.stdout) as Reference[];
  for (const [index, { file }] of v4.entries()) references.set(file, results[index] as Reference);
  editedReferences.push(...results.slice(v4.length, v4.length + edited.length));
  for (const [index, { file }] of older.entries()) {
    references.set(file, results[v4.length + edited.length + index] as Reference);
  }
});

describe('the notebook fixtures', () => {
  it('covers nbformat 4 files and older ones', () => {
    const minors = new Set(v4.map((fixture) => fixture.nbformat));
    expect([...minors].sort()).toEqual(['4.0', '4.1', '4.2', '4.3', '4.4', '4.5']);
    expect(older.map((fixture) => fixture.nbformat[0]).sort()).toEqual(['2', '3', '3']);
  });

  it.each(v4.map((entry) => entry.file))('%s exports exactly as nbformat would write it', (file) => {
    const ours = exported.get(file);
    const reference = references.get(file) as Reference;
    expect(ours).toBe(reference.rewrite);
    if (reference.original_errors.length === 0) expect(reference.our_errors).toEqual([]);
    const fixture = v4.find((entry) => entry.file === file);
    if (fixture?.nonCanonical) expect(ours).not.toBe(originals.get(file));
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

  it.each(older.map((entry) => entry.file))(
    '%s (nbformat < 4) is upgraded as nbformat upgrades it',
    (file) => {
      const reference = references.get(file) as Reference;
      const ours = upgraded.get(file) as string;
      expect(ours).toBe(reference.rewrite);
      expect(reference.our_errors).toEqual([]);
      const nb = JSON.parse(ours);
      expect([nb.nbformat, nb.nbformat_minor]).toEqual([4, 5]);
      expect(nb.worksheets).toBeUndefined();
    },
  );

  it('upgrades v3 cells: headings, outputs, prompt numbers and both worksheets', () => {
    const nb = JSON.parse(upgraded.get('nbformat-3.ipynb') as string);
    const sources = nb.cells.map((cell: { source: string[] }) => cell.source.join(''));
    expect(sources[0]).toBe('# An nbformat 3 notebook');
    expect(sources.at(-1)).toBe('### Second worksheet');
    const [print, html, error] = nb.cells.filter((cell: { cell_type: string }) => cell.cell_type === 'code');
    expect(print.execution_count).toBe(1);
    expect(print.outputs.map((output: { output_type: string }) => output.output_type)).toEqual([
      'stream',
      'execute_result',
    ]);
    expect(print.outputs[0].name).toBe('stdout');
    expect(html.metadata.collapsed).toBe(true);
    expect(Object.keys(html.outputs[0].data).sort()).toEqual(['image/png', 'text/html', 'text/plain']);
    expect(html.outputs[2].data['application/json']).toEqual({ a: [1, 2] });
    expect(error.outputs[0]).toMatchObject({ output_type: 'error', ename: 'ZeroDivisionError' });
    expect('language' in print).toBe(false);
  });
});

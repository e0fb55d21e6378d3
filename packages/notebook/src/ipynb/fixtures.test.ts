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

beforeAll(() => {
  for (const { file } of v4) {
    const text = readNotebookFixture(file);
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

  it.each(older.map((entry) => entry.file))('%s (nbformat < 4) is refused with a clear message', (file) => {
    const text = readNotebookFixture(file);
    expect(() => parseIpynb(text)).toThrow(/nbformat [23] notebook; only nbformat 4 is supported/);
  });
});

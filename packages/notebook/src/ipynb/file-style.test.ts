import { describe, expect, it } from 'vitest';
import type * as Y from 'yjs';
import { insertCell } from '../document/cells.ts';
import { getCells } from '../document/notebook-doc.ts';
import { notebookFixtures, readNotebookFixture } from '../testing.ts';
import {
  detectIpynbStyle,
  ipynbToYDoc,
  parseIpynb,
  serializeIpynb,
  serializeIpynbLike,
  yDocToIpynb,
} from './index.ts';

/** Lines of `after` that are not in `before`, as a line diff would count them (multiset difference). */
function addedLines(before: string, after: string): string[] {
  const remaining = new Map<string, number>();
  for (const line of before.split('\n')) remaining.set(line, (remaining.get(line) ?? 0) + 1);
  return after.split('\n').filter((line) => {
    const count = remaining.get(line) ?? 0;
    if (count === 0) return true;
    remaining.set(line, count - 1);
    return false;
  });
}

function edit(text: string): string {
  const doc = ipynbToYDoc(parseIpynb(text));
  insertCell(doc, { cell_type: 'code', source: 'added = True' }, 1);
  (getCells(doc).get(0).get('source') as Y.Text).insert(0, 'Edited: ');
  return serializeIpynbLike(yDocToIpynb(doc), text);
}

const styled = ['unsorted-keys-indent-2.ipynb', 'indent-4.ipynb', 'indent-tabs.ipynb'];

describe('writing a notebook in the style of its file', () => {
  it.each(styled)('%s: an unchanged notebook is written back byte for byte', (file) => {
    const text = readNotebookFixture(file);
    expect(detectIpynbStyle(text)).toBeDefined();
    expect(serializeIpynbLike(parseIpynb(text), text)).toBe(text);
    expect(serializeIpynb(parseIpynb(text))).not.toBe(text);
  });

  it.each(styled)('%s: an edit changes only the lines it touches', (file) => {
    const text = readNotebookFixture(file);
    const edited = edit(text);
    const added = addedLines(text, edited);
    // The new cell (its keys, source, empty outputs and metadata) and the edited first source line.
    expect(added.length).toBeGreaterThan(0);
    expect(added.length).toBeLessThanOrEqual(10);
    expect(added.join('\n')).toContain('added = True');
    expect(added.join('\n')).toContain('Edited: ');
    expect(JSON.parse(edited).cells).toHaveLength(JSON.parse(text).cells.length + 1);
  });

  it('keeps the key order of a Colab file for new cells too', () => {
    const edited = JSON.parse(edit(readNotebookFixture('unsorted-keys-indent-2.ipynb')));
    expect(Object.keys(edited)).toEqual(['nbformat', 'nbformat_minor', 'metadata', 'cells']);
    expect(Object.keys(edited.cells[1])).toEqual([
      'cell_type',
      'source',
      'metadata',
      'execution_count',
      'outputs',
    ]);
  });

  it('escapes non-ASCII text in a file that was written with ensure_ascii', () => {
    const text = readNotebookFixture('indent-tabs.ipynb');
    const doc = ipynbToYDoc(parseIpynb(text));
    insertCell(doc, { cell_type: 'markdown', source: 'café ✓ 🚀' }, 0);
    const written = serializeIpynbLike(yDocToIpynb(doc), text);
    expect(written).toContain('"caf\\u00e9 \\u2713 \\ud83d\\ude80"');
    expect(JSON.parse(written).cells[0].source).toBe('café ✓ 🚀');
  });

  it.each(notebookFixtures.filter((fixture) => !fixture.nonCanonical && fixture.nbformat.startsWith('4.')))(
    '$file: a file nbformat wrote is written as nbformat writes it',
    ({ file }) => {
      const text = readNotebookFixture(file);
      expect(detectIpynbStyle(text)).toBeUndefined();
      const nb = parseIpynb(text);
      expect(serializeIpynbLike(nb, text)).toBe(serializeIpynb(nb));
    },
  );
});

import { YNotebook } from '@jupyter/ydoc';
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { watchCellIdentity } from '../document/cell-identity.ts';
import { CELL_ID_PATTERN } from '../document/cell-ids.ts';
import { insertCell } from '../document/cells.ts';
import { getCells, upgradeToNbformat45 } from '../document/notebook-doc.ts';
import { OutputWriter } from '../outputs/output-writer.ts';
import { iopub, syncPeers } from '../test-support/peers.ts';
import { ipynbToYDoc, parseIpynb, serializeIpynb, yDocToIpynb } from './index.ts';

const notebook = (minor: number, withIds: boolean) =>
  `${JSON.stringify(
    {
      cells: [
        {
          cell_type: 'markdown',
          ...(withIds ? { id: 'intro' } : {}),
          metadata: {},
          source: ['# Title\n', 'text'],
        },
        {
          cell_type: 'code',
          execution_count: 1,
          ...(withIds ? { id: 'run' } : {}),
          metadata: { tags: ['x'] },
          outputs: [{ name: 'stdout', output_type: 'stream', text: ['hi\n'] }],
          source: ['print("hi")'],
        },
      ],
      metadata: { kernelspec: { display_name: 'Python 3', language: 'python', name: 'python3' } },
      nbformat: 4,
      nbformat_minor: minor,
    },
    null,
    1,
  )}\n`;

const roundTrip = (doc: Y.Doc) => serializeIpynb(yDocToIpynb(doc));

describe('ipynb <-> Y.Doc', () => {
  it('keeps a 4.4 notebook at 4.4 without cell ids, even after edits, until upgraded to 4.5', () => {
    const text = notebook(4, false);
    const doc = ipynbToYDoc(parseIpynb(text));
    expect(roundTrip(doc)).toBe(text);
    insertCell(doc, { cell_type: 'code', source: 'new' });
    const edited = yDocToIpynb(doc);
    expect(edited.nbformat_minor).toBe(4);
    expect(edited.cells.every((cell) => !('id' in cell))).toBe(true);
    upgradeToNbformat45(doc);
    const upgraded = yDocToIpynb(doc);
    const ids = upgraded.cells.map((cell) => cell.id as string);
    expect(upgraded.nbformat_minor).toBe(5);
    expect(new Set(ids).size).toBe(3);
    for (const id of ids) expect(id).toMatch(CELL_ID_PATTERN);
  });

  it('keeps 4.5 cell ids', () => {
    const text = notebook(5, true);
    const doc = ipynbToYDoc(parseIpynb(text));
    expect(getCells(doc).map((cell) => cell.get('id'))).toEqual(['intro', 'run']);
    expect(roundTrip(doc)).toBe(text);
  });

  it('keeps unknown cell types, output types, keys and metadata verbatim', () => {
    const nb = {
      cells: [
        { cell_type: 'future cell', id: 'f', key: { nested: [1, 'two'] }, metadata: { custom: { a: null } } },
        {
          cell_type: 'code',
          execution_count: null,
          id: 'c',
          metadata: {},
          outputs: [{ output_type: 'future output', payload: { x: 1 } }],
          source: [],
          vendor: 'yes',
        },
      ],
      extra: 'top level',
      metadata: { colab: { provenance: [] } },
      nbformat: 4,
      nbformat_minor: 5,
    };
    const text = `${JSON.stringify(nb, null, 1)}\n`;
    expect(roundTrip(ipynbToYDoc(parseIpynb(text)))).toBe(text);
  });

  it('builds the same CRDT history every time it loads the same file', () => {
    const text = notebook(4, false);
    const first = ipynbToYDoc(parseIpynb(text));
    const second = ipynbToYDoc(parseIpynb(text));
    expect(Y.encodeStateAsUpdate(first)).toEqual(Y.encodeStateAsUpdate(second));
    expect(first.clientID).not.toBe(second.clientID);
  });

  it('keeps peers identical when a client with history from an older version of the file meets a reload of the new one', () => {
    const before = notebook(5, true);
    const after = before.replace('print(\\"hi\\")', 'print(\\"changed on disk\\")');
    expect(after).not.toBe(before);
    const room = ipynbToYDoc(parseIpynb(before));
    const client = new Y.Doc();
    syncPeers(room, client);
    const reloaded = ipynbToYDoc(parseIpynb(after));
    watchCellIdentity(reloaded);
    watchCellIdentity(client);
    syncPeers(reloaded, client);
    syncPeers(reloaded, client);
    expect(yDocToIpynb(client)).toEqual(yDocToIpynb(reloaded));
    expect(getCells(reloaded).map((cell) => cell.get('id'))).toEqual(['intro', 'run']);
  });

  it('does not duplicate cells when a client with old history reconnects to a room reloaded from disk', () => {
    const text = notebook(5, true);
    const room = ipynbToYDoc(parseIpynb(text));
    const client = new Y.Doc();
    syncPeers(room, client);
    (getCells(client).get(1).get('source') as Y.Text).insert(0, '# edited offline\n');
    // The room is evicted and rebuilt from the saved file while the client is away.
    const reloaded = ipynbToYDoc(parseIpynb(text));
    watchCellIdentity(reloaded);
    syncPeers(reloaded, client);
    expect(getCells(reloaded).map((cell) => cell.get('id'))).toEqual(['intro', 'run']);
    expect(yDocToIpynb(reloaded).cells[1]?.source).toBe('# edited offline\nprint("hi")');
  });

  it('is read and written by @jupyter/ydoc YNotebook (what JupyterLab clients use)', () => {
    const doc = ipynbToYDoc(parseIpynb(notebook(5, true)));
    const writer = new OutputWriter({ doc, cellId: 'run' });
    writer.handle(iopub('stream', { name: 'stdout', text: 'more\n' }));
    // A JupyterLab client starts empty and receives the server's document over the provider.
    const ynotebook = new YNotebook();
    syncPeers(doc, ynotebook.ydoc);
    expect(ynotebook.cells.map((cell) => cell.id)).toEqual(['intro', 'run']);
    const code = ynotebook.cells[1]?.toJSON() as Record<string, unknown>;
    expect(code.source).toBe('print("hi")');
    expect(code.outputs).toEqual([{ name: 'stdout', output_type: 'stream', text: 'hi\nmore\n' }]);
    expect(ynotebook.getMetadata('kernelspec')).toEqual({
      display_name: 'Python 3',
      language: 'python',
      name: 'python3',
    });

    // And what a JupyterLab client writes reads back as nbformat.
    ynotebook.insertCell(2, { cell_type: 'markdown', source: 'from JupyterLab', metadata: {} });
    ynotebook.cells[1]?.setMetadata({ tags: ['edited'] });
    syncPeers(ynotebook.ydoc, doc);
    const nb = yDocToIpynb(doc);
    expect(nb.cells).toHaveLength(3);
    expect(nb.cells[2]).toMatchObject({ cell_type: 'markdown', source: 'from JupyterLab', metadata: {} });
    expect(nb.cells[1]?.metadata).toEqual({ tags: ['edited'] });
  });
});

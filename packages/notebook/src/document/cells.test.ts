import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { yDocToIpynb } from '../ipynb/convert.ts';
import { syncPeers } from '../test-support/peers.ts';
import { repairDuplicateCells, watchCellIdentity } from './cell-identity.ts';
import { CELL_ID_PATTERN } from './cell-ids.ts';
import { cellToJson, deleteCell, getCellOutputs, insertCell, moveCell } from './cells.ts';
import { getCellMetadata, getNotebookMetadata, setCellMetadata, setNotebookMetadata } from './metadata.ts';
import { createNotebookDoc, getCells, notebookParts } from './notebook-doc.ts';

const ids = (doc: Y.Doc) => getCells(doc).map((cell) => cell.get('id'));
const sources = (doc: Y.Doc) => getCells(doc).map((cell) => String(cell.get('source')));

describe('the notebook document (JupyterLab schema)', () => {
  it('lays out state, meta and cells like jupyter_ydoc', () => {
    const doc = createNotebookDoc({
      metadata: { kernelspec: { name: 'python3', display_name: 'Python 3' } },
    });
    const { state, meta, cells } = notebookParts(doc);
    expect(state).toBeInstanceOf(Y.Map);
    expect(meta.get('nbformat')).toBe(4);
    expect(meta.get('nbformat_minor')).toBe(5);
    expect(meta.get('metadata')).toBeInstanceOf(Y.Map);
    const code = insertCell(doc, { cell_type: 'code', source: 'x = 1' });
    insertCell(doc, { cell_type: 'markdown', source: '# Title', attachments: {} }, 0);
    expect(cells.length).toBe(2);
    expect(code.get('id')).toMatch(CELL_ID_PATTERN);
    expect(code.get('source')).toBeInstanceOf(Y.Text);
    expect(code.get('metadata')).toBeInstanceOf(Y.Map);
    expect(code.get('outputs')).toBeInstanceOf(Y.Array);
    expect(code.get('execution_state')).toBe('idle');
    expect(cellToJson(code, { includeId: false })).toEqual({
      cell_type: 'code',
      metadata: {},
      source: 'x = 1',
      outputs: [],
      execution_count: null,
    });
    expect(getCellOutputs(code)).toEqual([]);
  });

  it('moves and deletes cells', () => {
    const doc = createNotebookDoc();
    for (const source of ['a', 'b', 'c']) insertCell(doc, { cell_type: 'markdown', source, id: source });
    moveCell(doc, 0, 2);
    expect(sources(doc)).toEqual(['b', 'c', 'a']);
    moveCell(doc, 2, 0);
    expect(sources(doc)).toEqual(['a', 'b', 'c']);
    deleteCell(doc, 1);
    expect(ids(doc)).toEqual(['a', 'c']);
    expect(() => moveCell(doc, 0, 5)).toThrow(RangeError);
  });

  it('sets notebook and cell metadata', () => {
    const doc = createNotebookDoc();
    const cell = insertCell(doc, { cell_type: 'code', source: '' });
    setNotebookMetadata(doc, 'kernelspec', { name: 'python3', display_name: 'Python 3' });
    setCellMetadata(cell, 'tags', ['parameters']);
    setCellMetadata(cell, 'collapsed', true);
    setCellMetadata(cell, 'collapsed', undefined);
    expect(getNotebookMetadata(doc)).toEqual({ kernelspec: { name: 'python3', display_name: 'Python 3' } });
    expect(getCellMetadata(cell)).toEqual({ tags: ['parameters'] });
    expect(yDocToIpynb(doc).cells[0]?.metadata).toEqual({ tags: ['parameters'] });
  });
});

describe('moving cells under concurrent edits', () => {
  function twoClients() {
    const server = createNotebookDoc();
    for (const source of ['a', 'b', 'c', 'd'])
      insertCell(server, { cell_type: 'markdown', source, id: source });
    const alice = new Y.Doc();
    const bob = new Y.Doc();
    syncPeers(server, alice);
    syncPeers(server, bob);
    return { alice, bob };
  }

  it('without repair, two clients moving the same cell at once duplicate it (the JupyterLab bug)', () => {
    const { alice, bob } = twoClients();
    moveCell(alice, 0, 3);
    moveCell(bob, 0, 1);
    syncPeers(alice, bob);
    expect(ids(alice).filter((id) => id === 'a')).toHaveLength(2);
    expect(repairDuplicateCells(alice)).toBe(1);
  });

  it('with watchCellIdentity both clients converge to one copy in the same place', () => {
    const { alice, bob } = twoClients();
    watchCellIdentity(alice);
    watchCellIdentity(bob);
    moveCell(alice, 0, 3);
    moveCell(bob, 0, 1);
    const bobText = getCells(bob).get(2).get('source') as Y.Text;
    bobText.insert(1, '!');
    syncPeers(alice, bob);
    syncPeers(alice, bob);
    expect(ids(alice)).toEqual(ids(bob));
    expect([...ids(alice)].sort()).toEqual(['a', 'b', 'c', 'd']);
    expect(sources(alice)).toEqual(sources(bob));
    expect(sources(alice)).toContain('c!');
  });

  it('a live session survives many concurrent moves without gaining or losing cells', () => {
    const server = createNotebookDoc();
    for (let i = 0; i < 6; i++) insertCell(server, { cell_type: 'code', source: `cell ${i}`, id: `c${i}` });
    const alice = new Y.Doc();
    const bob = new Y.Doc();
    syncPeers(server, alice);
    syncPeers(server, bob);
    for (const doc of [server, alice, bob]) watchCellIdentity(doc);
    for (let round = 0; round < 20; round++) {
      moveCell(alice, round % 6, (round * 5 + 1) % 6);
      moveCell(bob, (round + 3) % 6, (round * 7 + 2) % 6);
      moveCell(server, (round + 1) % 6, round % 6);
      syncPeers(server, alice);
      syncPeers(server, bob);
      syncPeers(server, alice);
    }
    expect(ids(alice)).toEqual(ids(server));
    expect(ids(bob)).toEqual(ids(server));
    expect([...ids(server)].sort()).toEqual(['c0', 'c1', 'c2', 'c3', 'c4', 'c5']);
  });
});

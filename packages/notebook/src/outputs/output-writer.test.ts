import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { findCell, getCellOutputs, insertCell, moveCell } from '../document/cells.ts';
import { createNotebookDoc, getCells } from '../document/notebook-doc.ts';
import { yDocToIpynb } from '../ipynb/convert.ts';
import { connectedPeers, iopub } from '../test-support/peers.ts';
import { OutputWriter, type OutputWriterOptions, type OverflowEvent } from './output-writer.ts';

function setup(options: Partial<OutputWriterOptions> = {}) {
  const doc = createNotebookDoc();
  insertCell(doc, { cell_type: 'code', id: 'run', source: 'print(1)' });
  const writer = new OutputWriter({ doc, cellId: 'run', ...options });
  writer.begin();
  const outputs = () => getCellOutputs(findCell(doc, 'run') as Y.Map<unknown>);
  return { doc, writer, outputs };
}

const firstOutput = (doc: Y.Doc) =>
  ((findCell(doc, 'run') as Y.Map<unknown>).get('outputs') as Y.Array<Y.Map<unknown>>).get(0);

const stream = (name: string, text: string) => iopub('stream', { name, text });

describe('OutputWriter', () => {
  it('merges consecutive fragments of one stream into one output, growing the same Y.Text', () => {
    const { doc, writer, outputs } = setup();
    writer.handle(stream('stdout', 'a\n'));
    const text = firstOutput(doc).get('text');
    writer.handle(stream('stdout', 'b\n'));
    writer.handle(stream('stderr', 'warning\n'));
    writer.handle(stream('stdout', 'c\n'));
    expect(outputs()).toEqual([
      { output_type: 'stream', name: 'stdout', text: 'a\nb\n' },
      { output_type: 'stream', name: 'stderr', text: 'warning\n' },
      { output_type: 'stream', name: 'stdout', text: 'c\n' },
    ]);
    expect(text).toBeInstanceOf(Y.Text);
    expect(firstOutput(doc).get('text')).toBe(text);
  });

  it('animates a progress bar in place', () => {
    const { writer, outputs } = setup();
    for (let i = 0; i <= 100; i += 25) writer.handle(stream('stderr', `\r${i}%`));
    writer.handle(stream('stderr', '\n'));
    expect(outputs()).toEqual([{ output_type: 'stream', name: 'stderr', text: '100%\n' }]);
  });

  it('writes execute_result, display_data and error outputs as nbformat JSON, and the execution count', () => {
    const { doc, writer, outputs } = setup();
    writer.handle(iopub('execute_input', { execution_count: 7, code: '1+1' }));
    writer.handle(
      iopub('display_data', {
        data: { 'text/plain': 'shown' },
        metadata: {},
        transient: { display_id: 'd1' },
      }),
    );
    writer.handle(iopub('execute_result', { execution_count: 7, data: { 'text/plain': '2' }, metadata: {} }));
    writer.handle(iopub('error', { ename: 'ValueError', evalue: 'bad', traceback: ['line 1', 'line 2'] }));
    writer.handle(iopub('status', { execution_state: 'idle' }));
    writer.end();
    expect(outputs()).toEqual([
      { output_type: 'display_data', data: { 'text/plain': 'shown' }, metadata: {} },
      { output_type: 'execute_result', execution_count: 7, data: { 'text/plain': '2' }, metadata: {} },
      { output_type: 'error', ename: 'ValueError', evalue: 'bad', traceback: ['line 1', 'line 2'] },
    ]);
    const saved = yDocToIpynb(doc).cells[0];
    expect(saved?.execution_count).toBe(7);
    expect(saved?.outputs?.[0]).toEqual({
      output_type: 'display_data',
      data: { 'text/plain': 'shown' },
      metadata: {},
    });
    expect(saved).not.toHaveProperty('execution_state');
  });

  it('clear_output(wait=True) keeps the old output until the next one replaces it in one update', () => {
    const { doc, writer, outputs } = setup();
    const peer = new Y.Doc();
    connectedPeers(doc, peer);
    const seenByPeer: number[] = [];
    peer.on('afterTransaction', () => seenByPeer.push(getCellOutputs(getCells(peer).get(0)).length));
    writer.handle(stream('stdout', 'frame 1\n'));
    writer.handle(iopub('clear_output', { wait: true }));
    expect(outputs()).toEqual([{ output_type: 'stream', name: 'stdout', text: 'frame 1\n' }]);
    writer.handle(stream('stdout', 'frame 2\n'));
    expect(outputs()).toEqual([{ output_type: 'stream', name: 'stdout', text: 'frame 2\n' }]);
    expect(seenByPeer).not.toContain(0);
    writer.handle(iopub('clear_output', { wait: false }));
    expect(outputs()).toEqual([]);
  });

  it('update_display_data rewrites every output with that display id, in every cell', () => {
    const doc = createNotebookDoc();
    insertCell(doc, { cell_type: 'code', id: 'first', source: '' });
    insertCell(doc, { cell_type: 'code', id: 'second', source: '' });
    const first = new OutputWriter({ doc, cellId: 'first' });
    const second = new OutputWriter({ doc, cellId: 'second' });
    const shown = (text: string, id: string) =>
      iopub('display_data', { data: { 'text/plain': text }, metadata: {}, transient: { display_id: id } });
    first.handle(shown('loading', 'bar'));
    first.handle(shown('other', 'other'));
    second.handle(shown('loading', 'bar'));
    second.handle(
      iopub('update_display_data', {
        data: { 'text/plain': 'done' },
        metadata: { x: 1 },
        transient: { display_id: 'bar' },
      }),
    );
    const texts = (id: string) =>
      getCellOutputs(findCell(doc, id) as Y.Map<unknown>).map((output) => [
        (output.data as Record<string, string>)['text/plain'],
        output.metadata,
      ]);
    expect(texts('first')).toEqual([
      ['done', { x: 1 }],
      ['other', {}],
    ]);
    expect(texts('second')).toEqual([['done', { x: 1 }]]);
  });

  it('caps a huge stream with a visible note and hands every byte to onOverflow', () => {
    const events: OverflowEvent[] = [];
    const { writer, outputs } = setup({
      limits: { maxOutputBytes: 100 },
      onOverflow: (event) => events.push(event),
    });
    const lines = Array.from({ length: 40 }, (_, i) => `line ${i}\n`);
    for (const line of lines) writer.handle(stream('stdout', line));
    const text = outputs()[0]?.text as string;
    const [kept, note] = text.split('\n[');
    expect(Buffer.byteLength(kept as string)).toBeLessThanOrEqual(100);
    expect(lines.join('').startsWith(kept as string)).toBe(true);
    expect(`[${note}`).toBe('[output truncated: 310 B total; download the full output]');
    expect(new Set(events.map((event) => event.key)).size).toBe(1);
    expect(events.map((event) => event.text).join('')).toBe(lines.join(''));
    expect(events.at(-1)?.totalBytes).toBe(310);
  });

  it('replaces an oversized rich output with a note and drops outputs past the per-cell cap', () => {
    const events: OverflowEvent[] = [];
    const { writer, outputs } = setup({
      limits: { maxOutputBytes: 1000, maxOutputsPerCell: 3 },
      onOverflow: (event) => events.push(event),
    });
    const image = 'A'.repeat(5000);
    writer.handle(iopub('display_data', { data: { 'image/png': image }, metadata: {} }));
    expect(outputs()[0]?.data).toEqual({
      'text/plain': '[output truncated: 5.0 kB total; download the full output]',
    });
    expect(events[0]?.output?.data).toEqual({ 'image/png': image });
    for (let i = 0; i < 6; i++)
      writer.handle(iopub('error', { ename: 'E', evalue: String(i), traceback: [] }));
    expect(outputs()).toHaveLength(4);
    expect((outputs()[3]?.data as Record<string, string> | undefined)?.['text/plain']).toMatch(
      /^\[output truncated: 4 more outputs/,
    );
    expect(events.filter((event) => event.kind === 'outputs')).toHaveLength(4);
  });

  it('keeps writing into a cell that a collaborator moves mid-execution', () => {
    const { doc, writer, outputs } = setup();
    insertCell(doc, { cell_type: 'markdown', source: 'above' }, 0);
    writer.handle(stream('stdout', 'before move\n'));
    moveCell(doc, 1, 0);
    writer.handle(stream('stdout', 'after move\n'));
    expect(getCells(doc).map((cell) => cell.get('id'))[0]).toBe('run');
    expect(getCells(doc).length).toBe(2);
    expect(outputs()).toEqual([{ output_type: 'stream', name: 'stdout', text: 'before move\nafter move\n' }]);
  });

  it('gives two synced clients identical notebooks while one edits and the other executes', () => {
    const { doc, writer } = setup();
    const peer = new Y.Doc();
    const link = connectedPeers(doc, peer);
    writer.handle(stream('stdout', 'step 1\r'));
    const peerSource = getCells(peer).get(0).get('source') as Y.Text;
    peerSource.insert(peerSource.length, '\nprint(2)');
    insertCell(peer, { cell_type: 'markdown', source: 'note' }, 0);
    writer.handle(stream('stdout', 'step 2\n'));
    link.disconnect();
    // Offline edits on both sides, then a reconnect.
    writer.handle(iopub('execute_result', { execution_count: 1, data: { 'text/plain': '2' }, metadata: {} }));
    peerSource.insert(0, '# run me\n');
    Y.applyUpdate(peer, Y.encodeStateAsUpdate(doc, Y.encodeStateVector(peer)));
    Y.applyUpdate(doc, Y.encodeStateAsUpdate(peer, Y.encodeStateVector(doc)));
    expect(yDocToIpynb(peer)).toEqual(yDocToIpynb(doc));
    const cell = yDocToIpynb(doc).cells[1];
    expect(cell?.source).toBe('# run me\nprint(1)\nprint(2)');
    expect(cell?.outputs).toEqual([
      { output_type: 'stream', name: 'stdout', text: 'step 2\n' },
      { output_type: 'execute_result', execution_count: 1, data: { 'text/plain': '2' }, metadata: {} },
    ]);
  });
});

import type { CellJson, OutputJson } from '@kiln/notebook';
import { describe, expect, it } from 'vitest';
import { LONG_OUTPUT_LINES, outputLines } from './output-model.ts';
import { cellsWithinBudget, SNAPSHOT_STREAM_LINES, withShortStreams } from './snapshot-budget.ts';

const cell = (bytes: number) => ({ source: 'x'.repeat(bytes) });

describe('cellsWithinBudget', () => {
  it('keeps leading cells until the budget is spent', () => {
    const cells = [cell(100), cell(100), cell(100), cell(100)];
    const kept = cellsWithinBudget(cells, 250);
    expect(kept).toEqual(cells.slice(0, 2));
  });

  it('always keeps the first cell, however large, so code is never missing from the first screen', () => {
    expect(cellsWithinBudget([cell(10_000), cell(10)], 100)).toHaveLength(1);
    expect(cellsWithinBudget([], 100)).toEqual([]);
  });

  it('keeps every cell of a small notebook', () => {
    expect(cellsWithinBudget([cell(10), cell(10), cell(10)], 64 * 1024)).toHaveLength(3);
  });
});

describe('withShortStreams', () => {
  const log = (lines: number) => Array.from({ length: lines }, (_, i) => `step ${i}: loss=0.5\n`).join('');
  const codeCell = (outputs: OutputJson[]): CellJson => ({
    cell_type: 'code',
    metadata: {},
    source: 'train()',
    outputs,
    execution_count: 1,
  });

  it('cuts a long stream to its first lines, still a long output (the same scroll box) and a fraction of the bytes', () => {
    const full = codeCell([{ output_type: 'stream', name: 'stdout', text: log(400) }]);
    const cut = withShortStreams(full);
    const text = cut.outputs?.[0]?.text as string;
    expect(text).toBe(log(SNAPSHOT_STREAM_LINES));
    expect(outputLines(cut.outputs ?? []).lines).toBeGreaterThan(LONG_OUTPUT_LINES);
    expect(outputLines(full.outputs ?? []).lines).toBeGreaterThan(LONG_OUTPUT_LINES);
    expect(JSON.stringify(cut).length).toBeLessThan(JSON.stringify(full).length / 4);
    expect(full.outputs?.[0]?.text).toBe(log(400));
  });

  it('leaves short streams, other outputs and list-form text of few lines as they are', () => {
    const cell = codeCell([
      { output_type: 'stream', name: 'stdout', text: log(SNAPSHOT_STREAM_LINES) },
      { output_type: 'stream', name: 'stderr', text: ['warning\n', 'done\n'] },
      { output_type: 'execute_result', data: { 'text/plain': log(500) }, metadata: {}, execution_count: 1 },
    ]);
    expect(withShortStreams(cell)).toEqual(cell);
    const markdown: CellJson = { cell_type: 'markdown', metadata: {}, source: '# Title' };
    expect(withShortStreams(markdown)).toBe(markdown);
  });

  it('keeps a stream whose truncation note links the full download', () => {
    const noted = `${log(300)}[output truncated: 12.3 MB total; download the full output] kiln-overflow:c1-abc-1`;
    const cell = codeCell([{ output_type: 'stream', name: 'stdout', text: noted }]);
    expect(withShortStreams(cell).outputs?.[0]?.text).toBe(noted);
  });
});

import { createNotebookDoc, findCell, insertCell } from '@kiln/notebook';
import { describe, expect, it } from 'vitest';
import { readExecutionState, resetExecutionState, writeExecutionState } from './execution-state.ts';

describe('resetExecutionState', () => {
  it('leaves no cell queued or running after the server that ran them is gone', () => {
    const doc = createNotebookDoc();
    for (const [id, state] of [
      ['a', 'running'],
      ['b', 'queued'],
      ['c', 'idle'],
    ] as const) {
      insertCell(doc, { id, cell_type: 'code', source: '1' }).set('execution_state', state);
    }
    writeExecutionState(doc, {
      kernel: { status: 'busy', reason: null, kernelId: 'k' },
      running: { cellId: 'a', requestId: 'r', by: { userId: 'u', name: 'U' }, queuedAt: 1, startedAt: 2 },
      queue: [{ cellId: 'b', requestId: 'r', by: { userId: 'u', name: 'U' }, queuedAt: 1 }],
      input: null,
      updatedAt: 2,
    });
    resetExecutionState(doc);
    expect(['a', 'b', 'c'].map((id) => findCell(doc, id)?.get('execution_state'))).toEqual([
      'idle',
      'idle',
      'idle',
    ]);
    expect(readExecutionState(doc)).toBeNull();
  });
});

import { describe, expect, it } from 'vitest';
import { formatElapsed, IDLE_VIEW, parseExecutionView } from './execution-view.ts';

describe('parseExecutionView', () => {
  it('reads the running cell, who ran it and the queue', () => {
    const view = parseExecutionView({
      kernel: { status: 'busy', reason: null, kernelId: 'k1' },
      running: {
        cellId: 'c1',
        requestId: 'r1',
        by: { userId: 'u1', name: 'Ada' },
        queuedAt: 5,
        startedAt: 10,
      },
      queue: [{ cellId: 'c2', requestId: 'r1', by: { userId: 'u1', name: 'Ada' }, queuedAt: 5 }],
      input: null,
      updatedAt: 10,
    });
    expect(view.kernel.status).toBe('busy');
    expect(view.running).toMatchObject({ cellId: 'c1', startedAt: 10, by: { name: 'Ada' } });
    expect(view.queue.map((q) => q.cellId)).toEqual(['c2']);
  });

  it('reads a pending input() prompt', () => {
    const view = parseExecutionView({
      kernel: { status: 'busy' },
      input: { cellId: 'c1', prompt: 'Name? ', password: false },
    });
    expect(view.input).toEqual({ cellId: 'c1', prompt: 'Name? ', password: false, requestedAt: 0 });
  });

  it('reads a kernel waiting for a machine, and what a started kernel actually got', () => {
    const waiting = parseExecutionView({
      kernel: {
        status: 'queued',
        reason: 'waiting for an H100: 2 ahead',
        queue: { position: 3, ahead: 2, reason: 'waiting for an H100: 2 ahead', deadline: 99 },
      },
    });
    expect(waiting.kernel).toMatchObject({
      status: 'queued',
      queue: { ahead: 2, deadline: 99 },
      granted: null,
    });
    const started = parseExecutionView({
      kernel: { status: 'idle', granted: { cpu: 1, memoryMiB: 2048, gpu: null, node: 'n1' } },
    });
    expect(started.kernel.granted).toEqual({ cpu: 1, memoryMiB: 2048, gpu: null });
    const gpu = parseExecutionView({
      kernel: {
        status: 'idle',
        granted: { cpu: 1, memoryMiB: 2048, gpu: { type: 'T4', count: 1, declared: true } },
      },
    });
    expect(gpu.kernel.granted?.gpu).toEqual({ type: 'T4', count: 1, declared: true });
  });

  it('treats missing or malformed state as an idle notebook', () => {
    expect(parseExecutionView(undefined)).toEqual(IDLE_VIEW);
    expect(parseExecutionView({ kernel: { status: 'exploded' }, queue: [1, null, {}] })).toEqual(IDLE_VIEW);
  });
});

describe('formatElapsed', () => {
  it('shows tenths under ten seconds, then seconds, minutes and hours', () => {
    expect(formatElapsed(400)).toBe('0.4s');
    expect(formatElapsed(12_300)).toBe('12s');
    expect(formatElapsed(185_000)).toBe('3m 05s');
    expect(formatElapsed(3_720_000)).toBe('1h 02m');
  });
});

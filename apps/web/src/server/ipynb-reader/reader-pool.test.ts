import { notebookParts } from '@kiln/notebook';
import { readIpynb } from '@kiln/notebook/ipynb-reader';
import { afterEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { createIpynbReader, type IpynbReader } from './reader-pool.ts';

const readers: IpynbReader[] = [];
afterEach(async () => {
  for (const reader of readers.splice(0)) await reader.close();
});

function reader(options: Parameters<typeof createIpynbReader>[0] = {}): IpynbReader {
  const created = createIpynbReader(options);
  readers.push(created);
  return created;
}

/** A valid notebook that takes seconds to read: many small cells, each a handful of nested values. */
function heavyNotebook(cells: number): string {
  const cell = (i: number) => ({
    cell_type: 'code',
    id: `c${i}`,
    metadata: { tags: ['a', 'b'], extra: { nested: [1, 2, { x: 'y' }] } },
    source: ['print(1)\n', 'x = 2\n'],
    outputs: [{ output_type: 'stream', name: 'stdout', text: ['a\n', 'b\n'] }],
    execution_count: i,
  });
  return JSON.stringify({
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {},
    cells: Array.from({ length: cells }, (_, i) => cell(i)),
  });
}

/** The longest the event loop went without a turn while `work` ran. */
async function longestStall(work: () => Promise<unknown>): Promise<number> {
  let last = performance.now();
  let longest = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
  }, 5);
  try {
    await work();
    await new Promise((resolve) => setTimeout(resolve, 20));
  } finally {
    clearInterval(timer);
  }
  return longest;
}

const small = JSON.stringify({
  nbformat: 4,
  nbformat_minor: 5,
  metadata: {},
  cells: [{ cell_type: 'markdown', id: 'm1', metadata: {}, source: '# Title' }],
});

describe('the .ipynb reader threads', () => {
  it('give back the notebook as a Yjs update, and refuse what is not a notebook with the parser’s message', async () => {
    const pool = reader();
    const read = await pool.read(small);
    const doc = new Y.Doc();
    Y.applyUpdate(doc, read.update);
    expect(notebookParts(doc).cells.length).toBe(1);
    expect(read.nbformat).toBe(4);
    expect(read.canonicalSha256).toMatch(/^[0-9a-f]{64}$/);
    await expect(pool.read('{"cells": []}')).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      message: expect.stringContaining('nbformat'),
    });
    await expect(pool.read(`${'['.repeat(200_000)}${']'.repeat(200_000)}`)).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
  });

  it('keep this thread answering while a file that takes seconds is read', async () => {
    // Large enough to take over a second to read even on an idle machine (8,000 cells took 0.6 s).
    const text = heavyNotebook(20_000);
    // Read here, the file holds this thread for its whole parse: the stall the pool exists to avoid.
    const inline = await longestStall(async () => readIpynb(text));
    expect(inline).toBeGreaterThan(1_000);
    const pool = reader();
    const inWorker = await longestStall(() => pool.read(text));
    expect(inWorker).toBeLessThan(Math.min(750, inline / 2));
  }, 120_000);

  it('stop a file that reads too long or needs too much memory, and go on with the next', async () => {
    const text = heavyNotebook(8_000);
    const slow = reader({ workers: 1, timeoutMs: 200 });
    await expect(slow.read(text)).rejects.toMatchObject({
      code: 'PAYLOAD_TOO_LARGE',
      message: expect.stringContaining('took longer than'),
    });
    expect((await slow.read(small)).nbformat).toBe(4);

    const tight = reader({ workers: 1, maxMemoryMiB: 16 });
    await expect(tight.read(heavyNotebook(40_000))).rejects.toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    expect((await tight.read(small)).nbformat).toBe(4);
  }, 120_000);

  it('refuse more waiting files than allowed instead of queueing without bound', async () => {
    const pool = reader({ workers: 1, maxWaiting: 1 });
    const text = heavyNotebook(2_000);
    const first = pool.read(text);
    const second = pool.read(text);
    await expect(pool.read(text)).rejects.toMatchObject({ code: 'RATE_LIMITED' });
    await Promise.all([first, second]);
  }, 120_000);
});

import { describe, expect, it } from 'vitest';
import { createMemoryOverflowStore } from './overflow-store.ts';

describe('memory overflow store', () => {
  it('joins stream chunks of one key into the whole text for download', async () => {
    const store = createMemoryOverflowStore({ maxBytes: 1000, maxEntryBytes: 1000 });
    store.put('nb', { cellId: 'c', key: 'k', kind: 'stream', text: 'head', totalBytes: 4 });
    store.put('nb', { cellId: 'c', key: 'k', kind: 'stream', text: '-tail', totalBytes: 9 });
    expect(await store.get('nb', 'k')).toMatchObject({
      notebookId: 'nb',
      cellId: 'c',
      mimeType: 'text/plain; charset=utf-8',
      body: 'head-tail',
      totalBytes: 9,
      complete: true,
    });
  });

  it('keeps dropped outputs as a JSON array and a cut rich output as JSON', async () => {
    const store = createMemoryOverflowStore({ maxBytes: 1000, maxEntryBytes: 1000 });
    const output = { output_type: 'display_data', data: { 'text/plain': 'x' }, metadata: {} };
    store.put('nb', { cellId: 'c', key: 'drop', kind: 'outputs', output, totalBytes: 10 });
    store.put('nb', { cellId: 'c', key: 'drop', kind: 'outputs', output, totalBytes: 20 });
    store.put('nb', { cellId: 'c', key: 'big', kind: 'data', output, totalBytes: 10 });
    expect(JSON.parse((await store.get('nb', 'drop'))?.body ?? '')).toEqual([output, output]);
    expect(JSON.parse((await store.get('nb', 'big'))?.body ?? '')).toEqual(output);
  });

  it('evicts the least recently written entries past its byte bound and marks oversized ones incomplete', async () => {
    const store = createMemoryOverflowStore({ maxBytes: 10, maxEntryBytes: 8 });
    store.put('nb', { cellId: 'c', key: 'a', kind: 'stream', text: 'aaaa', totalBytes: 4 });
    store.put('nb', { cellId: 'c', key: 'b', kind: 'stream', text: 'bbbb', totalBytes: 4 });
    store.put('nb', { cellId: 'c', key: 'a', kind: 'stream', text: 'aa', totalBytes: 6 });
    store.put('nb', { cellId: 'c', key: 'c', kind: 'stream', text: 'cccc', totalBytes: 4 });
    expect(await store.get('nb', 'b')).toBeUndefined();
    expect((await store.get('nb', 'a'))?.body).toBe('aaaaaa');
    store.put('nb', { cellId: 'c', key: 'a', kind: 'stream', text: 'aaaaa', totalBytes: 11 });
    expect(await store.get('nb', 'a')).toMatchObject({ body: 'aaaaaa', complete: false, totalBytes: 11 });
    expect(store.bytes).toBeLessThanOrEqual(10);
    await store.deleteNotebook('nb');
    expect(store.bytes).toBe(0);
  });
});

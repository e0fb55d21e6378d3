import { randomUUID } from 'node:crypto';
import type { Db } from '@kiln/db';
import { createTestDatabase, type TestDatabase } from '@kiln/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresOverflowStore } from './postgres-overflow-store.ts';

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database?.drop();
});

async function createNotebook(db: Db): Promise<string> {
  const workspace = await db.workspace.create({ data: { name: 'Lab', slug: `lab-${randomUUID()}` } });
  return (await db.notebook.create({ data: { workspaceId: workspace.id, name: 'nb' } })).id;
}

const output = (text: string) => ({
  output_type: 'display_data',
  data: { 'text/plain': text },
  metadata: {},
});
const limits = { maxEntryBytes: 1024 * 1024, maxNotebookBytes: 4 * 1024 * 1024 };

describe('Postgres overflow store', () => {
  it('appends stream chunks as they come and serves the whole text, also to a restarted server', async () => {
    const notebookId = await createNotebook(database.db);
    const store = createPostgresOverflowStore(database.db, limits);
    const text = 'line ✓ "quoted"\n'.repeat(5000);
    let total = 0;
    for (let i = 0; i < text.length; i += 7000) {
      const chunk = text.slice(i, i + 7000);
      total += Buffer.byteLength(chunk);
      store.put(notebookId, { cellId: 'c1', key: 'k1', kind: 'stream', text: chunk, totalBytes: total });
    }
    // Read at once: what is still buffered is written before the read.
    expect(await store.get(notebookId, 'k1')).toEqual({
      key: 'k1',
      notebookId,
      cellId: 'c1',
      kind: 'stream',
      mimeType: 'text/plain; charset=utf-8',
      body: text,
      totalBytes: Buffer.byteLength(text),
      complete: true,
    });
    // A new process (a restarted web server) finds the same download.
    const restarted = createPostgresOverflowStore(database.db, limits);
    expect((await restarted.get(notebookId, 'k1'))?.body).toBe(text);
  });

  it('keeps dropped outputs as one JSON array and a cut rich output as its JSON', async () => {
    const notebookId = await createNotebook(database.db);
    const store = createPostgresOverflowStore(database.db, limits);
    store.put(notebookId, { cellId: 'c', key: 'drop', kind: 'outputs', output: output('a'), totalBytes: 10 });
    await store.get(notebookId, 'drop');
    store.put(notebookId, { cellId: 'c', key: 'drop', kind: 'outputs', output: output('b'), totalBytes: 20 });
    store.put(notebookId, { cellId: 'c', key: 'drop', kind: 'outputs', output: output('c'), totalBytes: 30 });
    store.put(notebookId, { cellId: 'c', key: 'big', kind: 'data', output: output('x'), totalBytes: 99 });
    store.put(notebookId, { cellId: 'c', key: 'big', kind: 'data', output: output('y'), totalBytes: 120 });
    const dropped = await store.get(notebookId, 'drop');
    expect(dropped?.mimeType).toBe('application/json');
    expect(JSON.parse(dropped?.body ?? '')).toEqual([output('a'), output('b'), output('c')]);
    const big = await store.get(notebookId, 'big');
    expect(JSON.parse(big?.body ?? '')).toEqual(output('x'));
    expect(big?.totalBytes).toBe(120);
  });

  it("never serves one notebook's entry under another notebook, even with the same key", async () => {
    const [mine, theirs] = [await createNotebook(database.db), await createNotebook(database.db)];
    const store = createPostgresOverflowStore(database.db, limits);
    store.put(mine, { cellId: 'c', key: 'same', kind: 'stream', text: 'mine', totalBytes: 4 });
    store.put(theirs, { cellId: 'c', key: 'same', kind: 'stream', text: 'theirs', totalBytes: 6 });
    expect((await store.get(mine, 'same'))?.body).toBe('mine');
    expect((await store.get(theirs, 'same'))?.body).toBe('theirs');
    expect(await store.get(mine, 'missing')).toBeUndefined();
    expect(await store.get('not-a-uuid', 'same')).toBeUndefined();
  });

  it('stops recording a key past its bound and says the download is incomplete', async () => {
    const notebookId = await createNotebook(database.db);
    const store = createPostgresOverflowStore(database.db, { maxEntryBytes: 10, maxNotebookBytes: 1000 });
    store.put(notebookId, { cellId: 'c', key: 'k', kind: 'stream', text: 'aaaaaa', totalBytes: 6 });
    store.put(notebookId, { cellId: 'c', key: 'k', kind: 'stream', text: 'bbbbbb', totalBytes: 12 });
    store.put(notebookId, { cellId: 'c', key: 'k', kind: 'stream', text: 'cc', totalBytes: 14 });
    expect(await store.get(notebookId, 'k')).toMatchObject({
      body: 'aaaaaa',
      complete: false,
      totalBytes: 14,
    });
  });

  it('keeps a notebook within its bound by dropping its least recently written entries', async () => {
    const notebookId = await createNotebook(database.db);
    const other = await createNotebook(database.db);
    const store = createPostgresOverflowStore(database.db, { maxEntryBytes: 100, maxNotebookBytes: 25 });
    store.put(other, { cellId: 'c', key: 'o', kind: 'stream', text: 'o'.repeat(20), totalBytes: 20 });
    for (const key of ['a', 'b', 'c']) {
      store.put(notebookId, { cellId: 'c', key, kind: 'stream', text: key.repeat(10), totalBytes: 10 });
      await store.get(notebookId, key);
    }
    expect(await store.get(notebookId, 'a')).toBeUndefined();
    expect((await store.get(notebookId, 'b'))?.body).toBe('b'.repeat(10));
    expect((await store.get(notebookId, 'c'))?.body).toBe('c'.repeat(10));
    // Another notebook's entries do not count against this one's bound.
    expect((await store.get(other, 'o'))?.body).toBe('o'.repeat(20));
  });

  it('forgets a deleted notebook, and a write for it does not fail the store', async () => {
    const notebookId = await createNotebook(database.db);
    const errors: unknown[] = [];
    const store = createPostgresOverflowStore(database.db, { ...limits, onError: (e) => errors.push(e) });
    store.put(notebookId, { cellId: 'c', key: 'k', kind: 'stream', text: 'kept', totalBytes: 4 });
    expect((await store.get(notebookId, 'k'))?.body).toBe('kept');
    await database.db.notebook.delete({ where: { id: notebookId } });
    expect(await store.get(notebookId, 'k')).toBeUndefined();
    // The kernel may still be writing when the notebook goes: that write fails alone.
    store.put(notebookId, { cellId: 'c', key: 'late', kind: 'stream', text: 'late', totalBytes: 4 });
    expect(await store.get(notebookId, 'late')).toBeUndefined();
    expect(errors).toHaveLength(1);
    const alive = await createNotebook(database.db);
    store.put(alive, { cellId: 'c', key: 'k', kind: 'stream', text: 'fine', totalBytes: 4 });
    expect((await store.get(alive, 'k'))?.body).toBe('fine');
  });
});

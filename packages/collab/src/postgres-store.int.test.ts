import { randomUUID } from 'node:crypto';
import type { Db } from '@kiln/db';
import { createDb } from '@kiln/db';
import { createTestDatabase, type TestDatabase } from '@kiln/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { createPostgresStore } from './postgres-store.ts';
import { connect, nextCloseCode, startCollab, synced, waitFor } from './test-harness.ts';

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database?.drop();
});

async function createNotebook(db: Db): Promise<string> {
  const workspace = await db.workspace.create({ data: { name: 'Lab', slug: `lab-${randomUUID()}` } });
  const notebook = await db.notebook.create({ data: { workspaceId: workspace.id, name: 'nb' } });
  return notebook.id;
}

function update(text: string): Uint8Array {
  const doc = new Y.Doc();
  doc.clientID = text.length;
  doc.getText('source').insert(0, text);
  return Y.encodeStateAsUpdate(doc);
}

describe('Postgres document store', () => {
  it('appends, loads in order, and compacts only what the caller has seen', async () => {
    const store = createPostgresStore(database.db);
    const id = await createNotebook(database.db);
    expect(await store.load(id)).toEqual({ updates: [], lastId: null });
    const first = await store.append(id, [update('a')]);
    const second = await store.append(id, [update('b')]);
    expect(second > first).toBe(true);
    const loaded = await store.load(id);
    expect(loaded.updates.map((u) => [...u])).toEqual([[...update('a')], [...update('b')]]);
    expect(loaded.lastId).toBe(second);

    expect(await store.compact(id, update('state'), second, 1)).toBeNull();
    expect((await store.load(id)).updates).toHaveLength(2);
    const third = await store.append(id, [update('c'), update('dd')]);
    const stateId = await store.compact(id, update('state'), second, 2);
    const compacted = await store.load(id);
    expect(compacted.lastId).toBe(stateId);
    expect(compacted.updates.map((u) => [...u])).toEqual([
      [...update('c')],
      [...update('dd')],
      [...update('state')],
    ]);
    expect(compacted.lastId !== null && compacted.lastId > third).toBe(true);
  });

  it('reports a missing or deleted notebook as NOT_FOUND and cascades its log away', async () => {
    const store = createPostgresStore(database.db);
    await expect(store.load('not-a-uuid')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(store.load(randomUUID())).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const id = await createNotebook(database.db);
    await store.append(id, [update('x')]);
    await database.db.notebook.delete({ where: { id } });
    expect(await database.db.notebookUpdate.count({ where: { notebookId: id } })).toBe(0);
    await expect(store.append(id, [update('y')])).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});

describe('collab server on Postgres', () => {
  it('closes a socket for an unknown notebook with 4404', async () => {
    const { url } = await startCollab({ store: createPostgresStore(database.db) });
    const client = connect(url, randomUUID());
    expect(await nextCloseCode(client)).toBe(4404);
  });

  it('keeps every acknowledged edit across a crash and restart, without duplicating cells', async () => {
    const id = await createNotebook(database.db);
    const first = await startCollab({ store: createPostgresStore(database.db), compactAfterUpdates: 25 });
    const writer = connect(first.url, id);
    const observer = connect(first.url, id);
    await Promise.all([synced(writer), synced(observer)]);
    const cells = writer.doc.getArray<Y.Map<unknown>>('cells');
    for (let i = 0; i < 40; i++) {
      const cell = new Y.Map<unknown>();
      cell.set('id', `c${i}`);
      cell.set('source', new Y.Text(`print(${i})`));
      cells.push([cell]);
    }
    await waitFor(() => observer.doc.getArray('cells').length === 40, 'observer saw all 40 cells');
    // The observer may see an edit before it is stored; the author's echo comes only after.
    await waitFor(() => writer.server.getArray('cells').length === 40, 'writer acknowledged all 40 cells');

    await first.crash();
    // A new process: its own connection pool, nothing carried over in memory.
    const db = createDb(database.url, { max: 2 });
    try {
      await startCollab({ store: createPostgresStore(db) }, first.port);
      const fresh = connect(first.url, id);
      await synced(fresh);
      expect(fresh.doc.getArray<Y.Map<unknown>>('cells').map((cell) => cell.get('id'))).toEqual(
        Array.from({ length: 40 }, (_, i) => `c${i}`),
      );
      await waitFor(() => writer.provider.synced && observer.provider.synced, 'old clients resynced');
      for (const client of [writer, observer, fresh]) {
        await waitFor(() => client.doc.getArray('cells').length === 40, 'still 40 cells');
      }
      expect(await db.notebookUpdate.count({ where: { notebookId: id } })).toBeLessThanOrEqual(26);
    } finally {
      await db.$disconnect();
    }
  });

  it('recovers an edit that a crashed server broadcast but never stored, from the clients that hold it', async () => {
    const id = await createNotebook(database.db);
    const store = createPostgresStore(database.db);
    // The first process dies while its INSERT is in flight: the edit was shown to the peer, not stored.
    const first = await startCollab({ store: { ...store, append: () => new Promise(() => {}) } });
    const author = connect(first.url, id);
    const peer = connect(first.url, id);
    await Promise.all([synced(author), synced(peer)]);
    author.doc.getText('source').insert(0, 'model.fit(x, y)');
    await waitFor(() => peer.doc.getText('source').toString() === 'model.fit(x, y)', 'peer sees the edit');
    expect(author.server.getText('source').toString()).toBe('');
    await first.crash();

    await startCollab({ store: createPostgresStore(database.db) }, first.port);
    await waitFor(() => author.provider.synced && peer.provider.synced, 'clients reconnected');
    // The reconnected clients' sync step 2 brings the edit back; the new server stores it.
    const storedText = async () => {
      const stored = new Y.Doc();
      const rows = await database.db.notebookUpdate.findMany({ where: { notebookId: id } });
      for (const row of rows) Y.applyUpdate(stored, row.data);
      return stored.getText('source').toString();
    };
    for (const deadline = Date.now() + 5000; Date.now() < deadline; ) {
      if ((await storedText()) === 'model.fit(x, y)') break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(await storedText()).toBe('model.fit(x, y)');
    const fresh = connect(first.url, id);
    await synced(fresh);
    expect(fresh.doc.getText('source').toString()).toBe('model.fit(x, y)');
  });

  it('closes every socket with 4404 when the notebook is deleted under an open room', async () => {
    const id = await createNotebook(database.db);
    const { url } = await startCollab({ store: createPostgresStore(database.db) });
    const a = connect(url, id);
    const b = connect(url, id);
    await Promise.all([synced(a), synced(b)]);
    await database.db.notebook.delete({ where: { id } });
    const closedA = nextCloseCode(a);
    const closedB = nextCloseCode(b);
    a.doc.getText('source').insert(0, 'too late');
    expect([await closedA, await closedB]).toEqual([4404, 4404]);
  });
});

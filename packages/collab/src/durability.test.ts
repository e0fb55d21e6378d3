import { describe, expect, it, onTestFinished } from 'vitest';
import * as Y from 'yjs';
import { createMemoryStore } from './memory-store.ts';
import { connect, nextCloseCode, startCollab, synced, waitFor } from './test-harness.ts';
import type { DocumentStore } from './types.ts';

const text = (doc: Y.Doc) => doc.getText('source').toString();

/** The document a store would give a server loading `name` now. */
async function storedText(store: DocumentStore, name: string): Promise<string> {
  const doc = new Y.Doc();
  for (const update of (await store.load(name)).updates) Y.applyUpdate(doc, update);
  return text(doc);
}

/** A memory store whose appends wait until `release()`; `waiting` says whether one is held. */
function gatedStore() {
  const memory = createMemoryStore();
  const held: (() => void)[] = [];
  let open = false;
  const release = () => {
    open = true;
    for (const resume of held.splice(0)) resume();
  };
  // A failing test must not leave the server's shutdown waiting for a held append.
  onTestFinished(release);
  return {
    memory,
    get waiting() {
      return held.length > 0;
    },
    release,
    store: {
      ...memory,
      async append(name: string, updates: Uint8Array[]) {
        if (!open) await new Promise<void>((resolve) => held.push(resolve));
        return memory.append(name, updates);
      },
    } satisfies DocumentStore,
  };
}

describe('durability without waiting for the store', () => {
  it('shows a peer an edit well before a slow (200 ms) store has it', async () => {
    const memory = createMemoryStore();
    const store: DocumentStore = {
      ...memory,
      async append(name, updates) {
        await new Promise((resolve) => setTimeout(resolve, 1000));
        return memory.append(name, updates);
      },
    };
    const { url } = await startCollab({ store });
    const a = connect(url, 'dur-1');
    const b = connect(url, 'dur-1');
    await Promise.all([synced(a), synced(b)]);
    const started = performance.now();
    a.doc.getText('source').insert(0, 'print(1)');
    await waitFor(() => text(b.doc) === 'print(1)', 'peer sees the edit');
    // The peer saw it while the store was still writing: broadcast does not wait for storage.
    expect(memory.rowCount('dur-1')).toBe(0);
    expect(text(a.server)).toBe('');
    await waitFor(() => text(a.server) === 'print(1)', 'author acknowledged');
    expect(performance.now() - started).toBeGreaterThanOrEqual(1000);
    expect(await storedText(memory, 'dur-1')).toBe('print(1)');
  });

  it("holds back the author's acknowledgement and a joiner's sync until the store has the edit", async () => {
    const gated = gatedStore();
    const { url } = await startCollab({ store: gated.store });
    const a = connect(url, 'dur-2');
    const b = connect(url, 'dur-2');
    await Promise.all([synced(a), synced(b)]);
    a.doc.getText('source').insert(0, 'x = 1');
    await waitFor(() => gated.waiting && text(b.doc) === 'x = 1', 'peer sees the edit while it is stored');
    const late = connect(url, 'dur-2');
    await new Promise((resolve) => setTimeout(resolve, 100));
    // Neither the echo nor a sync reply may tell anyone the server holds what it has not stored.
    expect(text(a.server)).toBe('');
    expect(late.provider.synced).toBe(false);
    expect(await storedText(gated.memory, 'dur-2')).toBe('');
    gated.release();
    await waitFor(() => text(a.server) === 'x = 1', 'author acknowledged');
    await synced(late);
    expect(text(late.doc)).toBe('x = 1');
    expect(await storedText(gated.memory, 'dur-2')).toBe('x = 1');
  });

  it('closes the author of an edit the store refused and stores the edit when it reconnects', async () => {
    const memory = createMemoryStore();
    let failNext = false;
    const store: DocumentStore = {
      ...memory,
      async append(name, updates) {
        if (failNext) {
          failNext = false;
          throw new Error('disk full');
        }
        return memory.append(name, updates);
      },
    };
    const { url } = await startCollab({ store });
    const a = connect(url, 'dur-3');
    const b = connect(url, 'dur-3');
    await Promise.all([synced(a), synced(b)]);
    a.doc.getText('source').insert(0, 'kept');
    await waitFor(() => text(a.server) === 'kept', 'first edit acknowledged');

    failNext = true;
    const closed = nextCloseCode(a);
    a.doc.getText('source').insert(4, '!');
    expect(await closed).toBe(1011);
    expect(text(b.doc)).toBe('kept!');
    // Its resent edit is already in the room; the sync reply that completes its reconnect waits until
    // the room's whole state is stored again.
    await synced(a);
    expect(await storedText(memory, 'dur-3')).toBe('kept!');
    const fresh = connect(url, 'dur-3');
    await synced(fresh);
    expect(text(fresh.doc)).toBe('kept!');
  });

  it('loses no edit when the server dies before storing it: reconnecting clients bring it back', async () => {
    const memory = createMemoryStore();
    // The first process's appends never finish: it dies with the edit applied, broadcast and unstored.
    const hanging: DocumentStore = { ...memory, append: () => new Promise(() => {}) };
    const first = await startCollab({ store: hanging });
    const a = connect(first.url, 'dur-4');
    const b = connect(first.url, 'dur-4');
    await Promise.all([synced(a), synced(b)]);
    a.doc.getText('source').insert(0, 'import torch');
    await waitFor(() => text(b.doc) === 'import torch', 'peer sees the edit');
    expect(text(a.server)).toBe('');

    await first.crash();
    await startCollab({ store: memory }, first.port);
    await waitFor(() => a.provider.synced && b.provider.synced, 'clients reconnected');
    await waitFor(() => text(a.server) === 'import torch', 'author acknowledged by the new server');
    expect(await storedText(memory, 'dur-4')).toBe('import torch');
    const fresh = connect(first.url, 'dur-4');
    await synced(fresh);
    for (const client of [a, b, fresh]) expect(text(client.doc)).toBe('import torch');
  });
});

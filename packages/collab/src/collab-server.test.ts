import { once } from 'node:events';
import { DomainError } from '@kiln/core';
import * as encoding from 'lib0/encoding';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import * as awarenessProtocol from 'y-protocols/awareness';
import * as Y from 'yjs';
import { defaultConfiguration } from './configuration.ts';
import { createMemoryStore } from './memory-store.ts';
import {
  closeCode,
  connect,
  nextCloseCode,
  rawSocket,
  startCollab,
  synced,
  waitFor,
} from './test-harness.ts';
import type { CollabUser } from './types.ts';

const text = (client: { doc: Y.Doc }) => client.doc.getText('source').toString();

/** Token → user, read from `?token=` the way the web app reads its session cookie. */
function tokenAuth({ request }: { request: import('node:http').IncomingMessage }): CollabUser | null {
  const token = new URL(request.url ?? '/', 'http://x').searchParams.get('token');
  if (token === 'editor') return { userId: 'u1', name: 'Ada', readOnly: false };
  if (token === 'viewer') return { userId: 'u2', name: 'Bob', readOnly: true };
  if (token === 'banned') throw new DomainError('FORBIDDEN', 'not a member of this workspace');
  return null;
}

describe('collab server with stock y-websocket clients', () => {
  it('makes two editing clients converge on the same text', async () => {
    const { url } = await startCollab();
    const a = connect(url, 'nb-1');
    const b = connect(url, 'nb-1');
    await Promise.all([synced(a), synced(b)]);
    a.doc.getText('source').insert(0, 'import numpy');
    b.doc.getText('source').insert(0, 'print(1)\n');
    await waitFor(() => text(a) === text(b) && text(a).length === 21, 'convergence');
    expect(text(a)).toContain('import numpy');
    expect(text(a)).toContain('print(1)');
  });

  it('gives a late joiner the whole document', async () => {
    const { url } = await startCollab();
    const a = connect(url, 'nb-2');
    await synced(a);
    const cells = a.doc.getArray<Y.Map<unknown>>('cells');
    for (let i = 0; i < 20; i++) {
      const cell = new Y.Map<unknown>();
      cell.set('id', `c${i}`);
      cell.set('source', new Y.Text(`x = ${i}`));
      cells.push([cell]);
    }
    const observer = connect(url, 'nb-2');
    await waitFor(() => observer.doc.getArray('cells').length === 20, 'observer saw all cells');
    const late = connect(url, 'nb-2');
    await synced(late);
    expect(late.doc.getArray('cells').toJSON()).toEqual(cells.toJSON());
  });

  it('propagates awareness (names, colours, cursors) and removes a client that leaves', async () => {
    const { url } = await startCollab();
    const a = connect(url, 'nb-3');
    const b = connect(url, 'nb-3');
    a.provider.awareness.setLocalStateField('user', { name: 'Ada', color: '#f00' });
    a.provider.awareness.setLocalStateField('cursor', { cell: 'c1', index: 4 });
    await waitFor(() => b.provider.awareness.getStates().has(a.doc.clientID), 'awareness reached b');
    // The name is the one the server authenticated (the harness signs everyone in as Tester).
    expect(b.provider.awareness.getStates().get(a.doc.clientID)).toEqual({
      user: { name: 'Tester', userId: 'tester', color: '#f00' },
      cursor: { cell: 'c1', index: 4 },
    });
    const late = connect(url, 'nb-3');
    await waitFor(() => late.provider.awareness.getStates().has(a.doc.clientID), 'late joiner sees ada');
    a.provider.disconnect();
    await waitFor(() => !b.provider.awareness.getStates().has(a.doc.clientID), 'ada removed from b');
  });

  it('disconnects one user on an access change, and their reconnect is authenticated afresh', async () => {
    let bobReadOnly = false;
    const { url, collab } = await startCollab({
      onAuthenticate: ({ request }) => {
        const token = new URL(request.url ?? '/', 'http://x').searchParams.get('token');
        if (token === 'ada') return { userId: 'ada', name: 'Ada', readOnly: false };
        if (token === 'bob') return { userId: 'bob', name: 'Bob', readOnly: bobReadOnly };
        return null;
      },
    });
    const ada = connect(url, 'nb-access', { token: 'ada' });
    const bob = connect(url, 'nb-access', { token: 'bob' });
    await Promise.all([synced(ada), synced(bob)]);
    bob.doc.getText('source').insert(0, 'bob was an editor;');
    await waitFor(() => text(ada) === 'bob was an editor;', 'bob edits while an editor');

    bobReadOnly = true;
    const bobClosed = nextCloseCode(bob);
    expect(collab.disconnectUser('bob')).toBe(1);
    expect(await bobClosed).toBe(4000);
    await waitFor(() => bob.provider.wsconnected && bob.provider.synced, 'bob reconnected');
    expect(ada.provider.wsconnected).toBe(true);

    bob.doc.getText('source').insert(0, 'now a viewer;');
    await waitFor(() => bob.denials === 1, 'bob is read-only after reconnecting');
    const late = connect(url, 'nb-access', { token: 'ada' });
    await synced(late);
    expect(text(late)).toBe('bob was an editor;');
  });

  it('lets a viewer read and send awareness but refuses its edits', async () => {
    const store = createMemoryStore();
    const { url } = await startCollab({ store, onAuthenticate: tokenAuth });
    const editor = connect(url, 'nb-4', { token: 'editor' });
    const viewer = connect(url, 'nb-4', { token: 'viewer' });
    await Promise.all([synced(editor), synced(viewer)]);
    editor.doc.getText('source').insert(0, 'shared');
    await waitFor(() => text(viewer) === 'shared', 'viewer receives edits');
    expect(viewer.denials).toBe(0);
    const rowsBefore = store.rowCount('nb-4');

    viewer.doc.getText('source').insert(0, 'vandal ');
    await waitFor(() => viewer.denials === 1, 'viewer told permission denied');
    viewer.provider.awareness.setLocalStateField('user', { name: 'Bob' });
    await waitFor(() => editor.provider.awareness.getStates().has(viewer.doc.clientID), 'viewer awareness');
    const late = connect(url, 'nb-4', { token: 'editor' });
    await synced(late);
    expect(text(editor)).toBe('shared');
    expect(text(late)).toBe('shared');
    expect(store.rowCount('nb-4')).toBe(rowsBefore);
    expect(viewer.provider.wsconnected).toBe(true);
  });

  it('binds presence to the signed-in user: a viewer cannot appear as the owner or move their cursor', async () => {
    const { url } = await startCollab({ onAuthenticate: tokenAuth });
    const owner = connect(url, 'nb-presence', { token: 'editor' });
    const viewer = connect(url, 'nb-presence', { token: 'viewer' });
    await Promise.all([synced(owner), synced(viewer)]);
    owner.provider.awareness.setLocalStateField('user', { name: 'Ada', userId: 'u1', color: '#00f' });
    await waitFor(() => viewer.provider.awareness.getStates().has(owner.doc.clientID), 'owner presence');

    viewer.provider.awareness.setLocalStateField('user', { name: 'Ada', userId: 'u1', color: '#00f' });
    await waitFor(() => owner.provider.awareness.getStates().has(viewer.doc.clientID), 'viewer presence');
    expect(owner.provider.awareness.getStates().get(viewer.doc.clientID)?.user).toEqual({
      name: 'Bob',
      userId: 'u2',
      color: '#00f',
    });

    // A forged update for the owner's client id (a fake cursor, or removing them) is dropped.
    const forged = new awarenessProtocol.Awareness(new Y.Doc());
    forged.clientID = owner.doc.clientID;
    forged.setLocalState({ user: { name: 'Ada' }, cursor: { cell: 'forged', index: 0 } });
    const clock = (owner.provider.awareness.meta.get(owner.doc.clientID)?.clock ?? 0) + 10;
    forged.meta.set(owner.doc.clientID, { clock, lastUpdated: Date.now() });
    const encoder = encoding.createEncoder();
    encoding.writeVarUint(encoder, 1);
    encoding.writeVarUint8Array(
      encoder,
      awarenessProtocol.encodeAwarenessUpdate(forged, [owner.doc.clientID]),
    );
    viewer.provider.ws?.send(encoding.toUint8Array(encoder));
    const late = connect(url, 'nb-presence', { token: 'editor' });
    await synced(late);
    await waitFor(() => late.provider.awareness.getStates().has(owner.doc.clientID), 'late sees owner');
    expect(late.provider.awareness.getStates().get(owner.doc.clientID)?.cursor).toBeUndefined();
    expect(late.provider.awareness.getStates().get(owner.doc.clientID)?.user?.name).toBe('Ada');
  });

  it('closes unauthenticated sockets with 4401 (also when no onAuthenticate is set) and forbidden ones with 4403', async () => {
    const { url } = await startCollab({ onAuthenticate: tokenAuth });
    const anonymous = connect(url, 'nb-5');
    expect(await nextCloseCode(anonymous)).toBe(4401);
    const banned = connect(url, 'nb-5', { token: 'banned' });
    expect(await nextCloseCode(banned)).toBe(4403);
    expect(anonymous.doc.getText('source').toString()).toBe('');

    const unconfigured = await startCollab({ onAuthenticate: defaultConfiguration().onAuthenticate });
    expect(await nextCloseCode(connect(unconfigured.url, 'nb-5'))).toBe(4401);
  });

  it('answers 404 to an upgrade outside /yjs/<name>', async () => {
    const { port } = await startCollab();
    const ws = new WebSocket(`ws://127.0.0.1:${port}/elsewhere`);
    const [error] = (await once(ws, 'error')) as [Error];
    expect(error.message).toContain('404');
  });

  it('never duplicates cells when an offline client reconnects, also across a server restart', async () => {
    const store = createMemoryStore();
    const first = await startCollab({ store });
    const a = connect(first.url, 'nb-6');
    const b = connect(first.url, 'nb-6');
    await Promise.all([synced(a), synced(b)]);
    const cellsA = a.doc.getArray<Y.Map<unknown>>('cells');
    cellsA.push([new Y.Map(Object.entries({ id: 'c1' })), new Y.Map(Object.entries({ id: 'c2' }))]);
    await waitFor(() => b.doc.getArray('cells').length === 2, 'b sees two cells');

    a.provider.disconnect();
    cellsA.push([new Y.Map(Object.entries({ id: 'offline' }))]);
    b.doc.getArray<Y.Map<unknown>>('cells').push([new Y.Map(Object.entries({ id: 'online' }))]);
    a.provider.connect();
    await waitFor(
      () => a.doc.getArray('cells').length === 4 && b.doc.getArray('cells').length === 4,
      'merge',
    );

    // Restart: same store, new process-like server on the same port; both providers reconnect on their own.
    await first.crash();
    await startCollab({ store }, first.port);
    await waitFor(() => a.provider.synced && b.provider.synced, 'reconnected after restart');
    const fresh = connect(first.url, 'nb-6');
    await synced(fresh);
    for (const client of [a, b, fresh]) {
      const ids = client.doc.getArray<Y.Map<unknown>>('cells').map((cell) => cell.get('id'));
      expect(ids.sort()).toEqual(['c1', 'c2', 'offline', 'online']);
    }
  });

  it('compacts the update log without changing the document', async () => {
    const store = createMemoryStore();
    const first = await startCollab({ store, compactAfterUpdates: 10 });
    const a = connect(first.url, 'nb-7');
    const b = connect(first.url, 'nb-7');
    await Promise.all([synced(a), synced(b)]);
    for (let i = 0; i < 60; i++) {
      a.doc.getText('source').insert(i, String(i % 10));
      if (i % 7 === 0) a.doc.getText('source').delete(0, 1);
      await waitFor(() => text(b) === text(a), `edit ${i} echoed`);
    }
    await waitFor(() => store.rowCount('nb-7') <= 11, 'log compacted');
    // A burst stored in large batches while compactions run must still end up compacted.
    for (let i = 0; i < 300; i++) a.doc.getText('source').insert(0, 'b');
    await waitFor(() => text(b).length === 351, 'burst echoed');
    await waitFor(() => store.rowCount('nb-7') <= 11, 'burst compacted');
    await first.collab.closeRoom('nb-7');
    const reloaded = connect(first.url, 'nb-7');
    await synced(reloaded);
    expect(text(reloaded)).toBe(text(a));
    expect(text(reloaded).length).toBe(60 - 9 + 300);
  });

  it('closes malformed, text and oversized frames with named codes and keeps serving others', async () => {
    const { url } = await startCollab({ maxMessageBytes: 64 * 1024 });
    const a = connect(url, 'nb-8');
    await synced(a);

    const garbage = await rawSocket(url, 'nb-8');
    const garbageClosed = closeCode(garbage);
    garbage.send(Uint8Array.from([0, 2, 200, 1, 7, 7, 7]));
    expect(await garbageClosed).toBe(1007);

    const unknownType = await rawSocket(url, 'nb-8');
    const unknownClosed = closeCode(unknownType);
    unknownType.send(Uint8Array.from([99]));
    expect(await unknownClosed).toBe(1007);

    const textFrame = await rawSocket(url, 'nb-8');
    const textClosed = closeCode(textFrame);
    textFrame.send('hello');
    expect(await textClosed).toBe(1003);

    const huge = await rawSocket(url, 'nb-8');
    const hugeClosed = closeCode(huge);
    huge.send(new Uint8Array(64 * 1024 + 1));
    expect(await hugeClosed).toBe(1009);

    a.doc.getText('source').insert(0, 'still here');
    const b = connect(url, 'nb-8');
    await waitFor(() => text(b) === 'still here', 'server still serves');
  });

  it('stores and broadcasts server-side changes made through a direct connection, and runs hooks', async () => {
    const changes: string[][] = [];
    const stored: bigint[] = [];
    const { url, collab } = await startCollab({
      onAuthenticate: tokenAuth,
      onChange: ({ users }) => {
        changes.push(users.map((user) => user.name));
      },
      afterStore: ({ id }) => {
        stored.push(id);
      },
    });
    const a = connect(url, 'nb-10', { token: 'editor' });
    await synced(a);
    a.doc.getText('source').insert(0, 'x = 1');
    await waitFor(() => changes.length === 1, 'onChange ran');
    const direct = await collab.openDirectConnection('nb-10');
    expect(direct.document.getText('source').toString()).toBe('x = 1');
    await direct.transact((doc) => doc.getText('output').insert(0, '1\n'));
    await waitFor(() => a.doc.getText('output').toString() === '1\n', 'server-side output reached client');
    expect(changes).toEqual([['Ada'], []]);
    expect(stored).toHaveLength(2);
    expect(collab.rooms()).toEqual([{ documentName: 'nb-10', connections: 1, storedUpdates: 2 }]);
    await direct.disconnect();
  });

  it('closeRoom closes every socket with the given code and reloads the room from the store on return', async () => {
    const { url, collab } = await startCollab();
    const a = connect(url, 'nb-11');
    const b = connect(url, 'nb-11');
    await Promise.all([synced(a), synced(b)]);
    a.doc.getText('source').insert(0, 'kept');
    await waitFor(() => text(b) === 'kept', 'b has the edit');
    const closedA = nextCloseCode(a);
    const closedB = nextCloseCode(b);
    await collab.closeRoom('nb-11', { code: 4403, reason: 'membership revoked' });
    expect([await closedA, await closedB]).toEqual([4403, 4403]);
    a.provider.disconnect();
    b.provider.disconnect();
    expect(collab.rooms()).toEqual([]);
    const later = connect(url, 'nb-11');
    await synced(later);
    expect(text(later)).toBe('kept');
  });

  it('drops a client that stops reading instead of buffering for it without bound', async () => {
    const { url, collab } = await startCollab({ maxBufferedBytes: 256 * 1024 });
    const writer = connect(url, 'nb-12');
    await synced(writer);
    const stalled = await rawSocket(url, 'nb-12');
    const transport = (stalled as unknown as { _socket: import('node:net').Socket })._socket;
    transport.pause();
    await waitFor(() => collab.rooms()[0]?.connections === 2, 'both connected');
    const chunk = 'x'.repeat(512 * 1024);
    for (let i = 0; i < 64 && collab.rooms()[0]?.connections === 2; i++) {
      writer.doc.getText('source').insert(0, chunk);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await waitFor(() => collab.rooms()[0]?.connections === 1, 'stalled client dropped');
    const closed = once(stalled, 'close');
    transport.resume();
    const [code] = (await closed) as [number];
    expect(code).toBe(1006);
    expect(writer.provider.wsconnected).toBe(true);
  });
});

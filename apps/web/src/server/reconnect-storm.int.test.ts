import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { createNotebook, createSession, signUp, TEST_PASSWORD_HASH_OPTIONS } from '@kiln/accounts';
import { createPostgresStore } from '@kiln/collab/postgres';
import { CloseCode } from '@kiln/core';
import { createTestDatabase, type TestDatabase } from '@kiln/db/testing';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import WebSocket from 'ws';
import { WebsocketProvider } from 'y-websocket';
import * as Y from 'yjs';
import { keepConnection, STORED_ACKS_PARAMS } from '../lib/notebook/connection-keeper.ts';
import { createNotebookCollab } from './collab.ts';

// Many tabs of one notebook lose their server at once (a crash: nothing pending is stored) and all
// reconnect to its successor: the server stays responsive, checks each attempt once, and every
// edit, including those made while it was down, ends up stored.

const APP_URL = 'http://kiln.test';
const CLIENTS = 40;
let database: TestDatabase;
let notebookId: string;
let cookie: string;

beforeAll(async () => {
  database = await createTestDatabase();
  const { db } = database;
  const owner = await signUp(
    db,
    { email: 'storm@kiln.test', password: 'a long enough password', name: 'Storm' },
    { passwordHash: TEST_PASSWORD_HASH_OPTIONS },
  );
  ({ id: notebookId } = await createNotebook(db, {
    workspaceId: owner.personalWorkspace.id,
    name: 'Stormy',
    createdById: owner.user.id,
  }));
  cookie = `kiln_session=${(await createSession(db, { userId: owner.user.id })).token}`;
}, 120_000);

afterAll(async () => {
  await database?.drop();
});

/** The web process's /yjs rooms on a real HTTP server; `crash()` drops everything without storing. */
async function startServer(port = 0) {
  let authentications = 0;
  const collab = createNotebookCollab({
    db: database.db,
    appUrl: APP_URL,
    configuration: { unloadDelayMs: 0, onError: () => {} },
  });
  const handleUpgrade = collab.handleUpgrade.bind(collab);
  const http: Server = createServer((_req, res) => res.writeHead(204).end());
  http.on('upgrade', (req, socket, head) => {
    authentications++;
    handleUpgrade(req, socket, head);
  });
  const sockets = new Set<Socket>();
  http.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  http.listen(port, '127.0.0.1');
  await once(http, 'listening');
  const bound = (http.address() as AddressInfo).port;
  let stopped = false;
  const stop = async (graceful: boolean) => {
    if (stopped) return;
    stopped = true;
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => http.close(resolve));
    if (graceful) await collab.close();
  };
  onTestFinished(() => stop(true));
  return {
    url: `ws://127.0.0.1:${bound}/yjs`,
    http: `http://127.0.0.1:${bound}/`,
    port: bound,
    crash: () => stop(false),
    get authentications() {
      return authentications;
    },
  };
}

function tab(url: string) {
  class CookieSocket extends WebSocket {
    constructor(address: string, protocols?: string | string[]) {
      super(address, protocols, { headers: { cookie, origin: APP_URL } });
    }
  }
  const doc = new Y.Doc();
  const provider = new WebsocketProvider(url, notebookId, doc, {
    WebSocketPolyfill: CookieSocket as unknown as typeof globalThis.WebSocket,
    params: STORED_ACKS_PARAMS,
    disableBc: true,
  });
  const keeper = keepConnection(provider, {
    finalCodes: new Set([CloseCode.unauthenticated, CloseCode.forbidden, CloseCode.notFound]),
    onSavedChange: () => {},
  });
  onTestFinished(() => {
    keeper.dispose();
    provider.destroy();
    doc.destroy();
  });
  return { doc, provider, keeper, log: doc.getArray<string>('storm') };
}

async function waitFor(condition: () => boolean, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('a reconnect storm', () => {
  it('loses no edit and keeps the server answering while every tab comes back', async () => {
    const first = await startServer();
    const tabs = Array.from({ length: CLIENTS }, () => tab(first.url));
    await waitFor(() => tabs.every((t) => t.provider.synced), 'every tab synced', 60_000);
    for (const [i, t] of tabs.entries()) t.log.push([`before-${i}`]);
    await waitFor(() => tabs.every((t) => t.keeper.saved), 'the first edits saved', 60_000);

    await first.crash();
    await waitFor(() => tabs.every((t) => !t.provider.wsconnected), 'every tab offline', 30_000);
    for (const [i, t] of tabs.entries()) t.log.push([`offline-${i}`]);
    expect(tabs.some((t) => t.keeper.saved)).toBe(false);

    const second = await startServer(first.port);
    // Answers ordinary requests while the tabs pile back in.
    const probe = await fetch(second.http);
    expect(probe.status).toBe(204);
    await waitFor(
      () => tabs.every((t) => t.keeper.saved && t.provider.synced),
      'every tab saved again',
      120_000,
    );
    expect((await fetch(second.http)).status).toBe(204);
    // Backoff with jitter: a handful of attempts per tab, not a loop.
    expect(second.authentications).toBeLessThanOrEqual(CLIENTS * 3);

    // What is stored: a process that loads the notebook now sees every edit of every tab, once.
    const stored = new Y.Doc();
    for (const update of (await createPostgresStore(database.db).load(notebookId)).updates) {
      Y.applyUpdate(stored, update);
    }
    const entries = stored.getArray<string>('storm').toArray();
    const expected = tabs.flatMap((_, i) => [`before-${i}`, `offline-${i}`]);
    expect([...entries].sort()).toEqual([...expected].sort());
  }, 240_000);
});

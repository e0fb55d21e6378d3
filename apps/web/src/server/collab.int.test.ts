import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  createNotebook,
  createSession,
  deleteSession,
  signUp,
  TEST_PASSWORD_HASH_OPTIONS,
} from '@kiln/accounts';
import type { CollabServer } from '@kiln/collab';
import { createTestDatabase, type TestDatabase } from '@kiln/db/testing';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import WebSocket from 'ws';
import { WebsocketProvider } from 'y-websocket';
import * as Y from 'yjs';
import { createNotebookCollab } from './collab.ts';
import { createUpgradeRouter } from './upgrade-router.ts';

const APP_URL = 'http://kiln.test';
let database: TestDatabase;
let notebookId: string;
const cookies = { owner: '', viewer: '', stranger: '' };
let ownerId = '';

interface Running {
  url: string;
  stop(): Promise<void>;
  collab: CollabServer;
}

/** The web server's upgrade path for /yjs (router + rooms) on a real HTTP server, port 0. */
async function startServer(): Promise<Running> {
  const collab: CollabServer = createNotebookCollab({
    db: database.db,
    appUrl: APP_URL,
    configuration: { unloadDelayMs: 0, onError: () => {} },
  });
  const upgrades = createUpgradeRouter();
  upgrades.route('/yjs', (req, socket, head) => collab.handleUpgrade(req, socket, head));
  const http: Server = createServer((_req, res) => res.writeHead(404).end());
  http.on('upgrade', (req, socket, head) => upgrades.handle(req, socket, head));
  http.listen(0, '127.0.0.1');
  await once(http, 'listening');
  const { port } = http.address() as AddressInfo;
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await collab.close();
    http.closeAllConnections();
    await new Promise((resolve) => http.close(resolve));
  };
  onTestFinished(stop);
  return { url: `ws://127.0.0.1:${port}/yjs`, stop, collab };
}

/** A stock y-websocket client whose handshake carries a session cookie (and optionally an Origin). */
function connect(url: string, room: string, headers: Record<string, string>) {
  class HeaderSocket extends WebSocket {
    constructor(address: string, protocols?: string | string[]) {
      super(address, protocols, { headers });
    }
  }
  const doc = new Y.Doc();
  const provider = new WebsocketProvider(url, room, doc, {
    WebSocketPolyfill: HeaderSocket as unknown as typeof globalThis.WebSocket,
    disableBc: true,
    maxBackoffTime: 100,
  });
  const closes: number[] = [];
  provider.on('connection-close', (event: { code: number } | null) => closes.push(event?.code ?? -1));
  onTestFinished(() => {
    provider.destroy();
    doc.destroy();
  });
  return { doc, provider, closes };
}

async function waitFor(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const source = (doc: Y.Doc) => doc.getText('probe').toString();

beforeAll(async () => {
  database = await createTestDatabase();
  const { db } = database;
  const options = { passwordHash: TEST_PASSWORD_HASH_OPTIONS };
  const password = 'a long enough password';
  const owner = await signUp(db, { email: 'owner@kiln.test', password, name: 'Ada Owner' }, options);
  const viewer = await signUp(db, { email: 'viewer@kiln.test', password, name: 'Vic Viewer' }, options);
  const stranger = await signUp(db, { email: 'stranger@kiln.test', password, name: 'Sam' }, options);
  const workspaceId = owner.personalWorkspace.id;
  ownerId = owner.user.id;
  await db.membership.create({ data: { workspaceId, userId: viewer.user.id, role: 'VIEWER' } });
  ({ id: notebookId } = await createNotebook(db, {
    workspaceId,
    name: 'Shared',
    createdById: owner.user.id,
  }));
  for (const [key, user] of [
    ['owner', owner],
    ['viewer', viewer],
    ['stranger', stranger],
  ] as const) {
    const session = await createSession(db, { userId: user.user.id });
    cookies[key] = `kiln_session=${session.token}`;
  }
});

afterAll(async () => {
  await database?.drop();
});

describe('/yjs/<notebookId> upgrade', () => {
  it('closes a signed-out connection with 4401', async () => {
    const server = await startServer();
    const client = connect(server.url, notebookId, {});
    await waitFor(() => client.closes.length > 0, 'close');
    expect(client.closes[0]).toBe(4401);
    expect(client.provider.synced).toBe(false);
  });

  it('closes the socket of a session that signed out, and its edits stop applying', async () => {
    const server = await startServer();
    const session = await createSession(database.db, { userId: ownerId });
    const leaving = connect(server.url, notebookId, { cookie: `kiln_session=${session.token}` });
    const staying = connect(server.url, notebookId, { cookie: cookies.owner });
    await waitFor(() => leaving.provider.synced && staying.provider.synced, 'both synced');
    // What auth.signOut does through onSessionsEnded in server.ts.
    await deleteSession(database.db, session.token);
    server.collab.disconnectUser(ownerId);
    await waitFor(() => leaving.closes.includes(4401), 'the ended session is refused on reconnect');
    expect(leaving.closes[0]).toBe(4000);
    leaving.doc.getText('probe').insert(0, 'after sign-out;');
    await waitFor(() => staying.provider.synced && staying.provider.wsconnected, 'the live session is back');
    staying.doc.getText('probe').insert(0, 'still signed in;');
    const late = connect(server.url, notebookId, { cookie: cookies.owner });
    await waitFor(() => late.provider.synced && source(late.doc).includes('still signed in;'), 'late sync');
    expect(source(late.doc)).not.toContain('after sign-out;');
  });

  it('answers 4404 for a non-member and for a notebook that does not exist alike', async () => {
    const server = await startServer();
    const stranger = connect(server.url, notebookId, { cookie: cookies.stranger });
    const missing = connect(server.url, '00000000-0000-4000-8000-000000000000', { cookie: cookies.owner });
    await waitFor(() => stranger.closes.length > 0 && missing.closes.length > 0, 'closes');
    expect(stranger.closes[0]).toBe(4404);
    expect(missing.closes[0]).toBe(4404);
  });

  it('refuses a handshake from another origin (cross-site websocket hijacking) with 4403', async () => {
    const server = await startServer();
    const evil = connect(server.url, notebookId, { cookie: cookies.owner, origin: 'https://evil.example' });
    const ours = connect(server.url, notebookId, { cookie: cookies.owner, origin: APP_URL });
    await waitFor(() => evil.closes.length > 0 && ours.provider.synced, 'evil closed, ours synced');
    expect(evil.closes[0]).toBe(4403);
  });

  it('lets a viewer read live edits but never applies the viewer’s own edits', async () => {
    const server = await startServer();
    const editor = connect(server.url, notebookId, { cookie: cookies.owner });
    const viewer = connect(server.url, notebookId, { cookie: cookies.viewer });
    await waitFor(() => editor.provider.synced && viewer.provider.synced, 'both synced');
    editor.doc.getText('probe').insert(0, 'from editor;');
    await waitFor(() => source(viewer.doc).includes('from editor;'), 'viewer sees the edit');
    viewer.doc.getText('probe').insert(0, 'from viewer;');
    // A third client proves what the server holds: the editor's text, not the viewer's.
    const late = connect(server.url, notebookId, { cookie: cookies.owner });
    await waitFor(() => late.provider.synced && source(late.doc).includes('from editor;'), 'late sync');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(source(late.doc)).not.toContain('from viewer;');
    expect(source(editor.doc)).not.toContain('from viewer;');
  });

  it('gives a new notebook the nbformat 4.5 schema and one empty code cell, once', async () => {
    const server = await startServer();
    const a = connect(server.url, notebookId, { cookie: cookies.owner });
    const b = connect(server.url, notebookId, { cookie: cookies.viewer });
    await waitFor(() => a.provider.synced && b.provider.synced, 'both synced');
    const cells = b.doc.getArray<Y.Map<unknown>>('cells');
    expect(cells.length).toBe(1);
    expect(cells.get(0).get('cell_type')).toBe('code');
    expect(b.doc.getMap('meta').get('nbformat_minor')).toBe(5);
  });

  it('puts back a run queue and a kernel-message mark forged by an editor, keeping what the server published', async () => {
    const server = await startServer();
    const editor = connect(server.url, notebookId, { cookie: cookies.owner });
    const watcher = connect(server.url, notebookId, { cookie: cookies.viewer });
    await waitFor(() => editor.provider.synced && watcher.provider.synced, 'synced');
    const published = { kernel: { status: 'idle' }, running: null, queue: [] };
    const direct = await server.collab.openDirectConnection(notebookId);
    await direct.transact((doc) => {
      doc.getMap('state').set('execution', published);
      doc.getMap('state').set('kernelMessage', 'msg-stored');
    });
    await waitFor(
      () => watcher.doc.getMap('state').get('execution') !== undefined,
      'the queue reached clients',
    );
    // The mark decides what the gateway replays to a restarted server: a forged one could hide output.
    editor.doc.getMap('state').set('kernelMessage', 'msg-forged');
    await waitFor(
      () =>
        watcher.doc.getMap('state').get('kernelMessage') === 'msg-stored' &&
        editor.doc.getMap('state').get('kernelMessage') === 'msg-stored',
      'the server restored the mark for everyone',
    );
    expect(direct.document.getMap('state').get('kernelMessage')).toBe('msg-stored');

    const forged = {
      kernel: { status: 'busy' },
      running: { cellId: 'x', by: { name: 'Someone else' } },
      queue: [],
    };
    editor.doc.getMap('state').set('execution', forged);
    await waitFor(
      () => JSON.stringify(editor.doc.getMap('state').get('execution')) === JSON.stringify(published),
      'the server restored the published queue for the forger',
    );
    await waitFor(
      () => JSON.stringify(watcher.doc.getMap('state').get('execution')) === JSON.stringify(published),
      'and for everyone else',
    );
    expect(direct.document.getMap('state').get('execution')).toEqual(published);
    // Ordinary edits still go through.
    editor.doc.getText('probe').insert(0, 'still editable;');
    await waitFor(() => source(watcher.doc).startsWith('still editable;'), 'an ordinary edit relayed');
    await direct.disconnect();
  });

  it('keeps an editor’s edits across a server restart (stored in Postgres)', async () => {
    const first = await startServer();
    const editor = connect(first.url, notebookId, { cookie: cookies.owner });
    const watcher = connect(first.url, notebookId, { cookie: cookies.viewer });
    await waitFor(() => editor.provider.synced && watcher.provider.synced, 'synced');
    editor.doc.getText('probe').insert(0, 'persisted;');
    await waitFor(() => source(watcher.doc).startsWith('persisted;'), 'the server relayed the edit');
    editor.provider.destroy();
    await first.stop();
    const rows = await database.db.notebookUpdate.count({ where: { notebookId } });
    expect(rows).toBeGreaterThan(0);

    const second = await startServer();
    const reader = connect(second.url, notebookId, { cookie: cookies.viewer });
    await waitFor(() => reader.provider.synced, 'synced after restart');
    expect(source(reader.doc)).toContain('persisted;');
  });
});

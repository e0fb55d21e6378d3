// One server under test, in its own process so its CPU and heap are measured apart from the clients.
// `kiln`: @kiln/collab with token authentication and the Postgres store on a fresh test database.
// `kiln-memory`: the same with the memory store. `kiln-async-commit`: Postgres with synchronous_commit=off.
// `reference`: y-websocket 2.1's own server (bin/utils setupWSConnection) on a plain ws server, in memory.
import { randomUUID, timingSafeEqual } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { createCollabServer, createMemoryStore } from '@kiln/collab';
import { createPostgresStore } from '@kiln/collab/postgres';
import { createDb } from '@kiln/db';
import { createTestDatabase } from '@kiln/db/testing';
import { WebSocketServer } from 'ws';
import { benchToken } from './token.ts';

type Request =
  | { type: 'notebooks'; count: number }
  | { type: 'memory' }
  | { type: 'stats' }
  | { type: 'exit' };

const kind = process.argv[2];
const send = (message: unknown) => process.send?.(message);
const gc = (globalThis as { gc?: () => void }).gc;

async function main() {
  const http = createServer((_request, response) => response.writeHead(404).end());
  let createNotebooks: (count: number) => Promise<string[]>;
  let stats: () => Promise<unknown> = async () => ({});
  let shutdown: () => Promise<void> = async () => {};

  if (kind === 'kiln' || kind === 'kiln-memory' || kind === 'kiln-async-commit') {
    const database = kind === 'kiln-memory' ? null : await createTestDatabase({ max: 8 });
    const workspace = await database?.db.workspace.create({ data: { name: 'Bench', slug: 'bench' } });
    // Commits return before the WAL reaches disk: survives a Kiln restart, not a Postgres/OS crash.
    const asyncCommit =
      database && kind === 'kiln-async-commit'
        ? createDb(`${database.url}?options=${encodeURIComponent('-c synchronous_commit=off')}`, { max: 8 })
        : null;
    const storeDb = asyncCommit ?? database?.db;
    const collab = createCollabServer({
      store: storeDb ? createPostgresStore(storeDb) : createMemoryStore(),
      onAuthenticate: ({ request, documentName }) => {
        const token = new URL(request.url ?? '/', 'http://x').searchParams.get('token') ?? '';
        const [user = ''] = token.split('.');
        const expected = Buffer.from(benchToken(user, documentName));
        const given = Buffer.from(token);
        if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
        return { userId: user, name: user, readOnly: false };
      },
    });
    http.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) =>
      collab.handleUpgrade(request, socket, head),
    );
    createNotebooks = async (count) => {
      const names: string[] = [];
      for (let i = 0; i < count; i++) {
        if (!database || !workspace) {
          names.push(randomUUID());
          continue;
        }
        const notebook = await database.db.notebook.create({
          data: { workspaceId: workspace.id, name: `nb${i}` },
        });
        names.push(notebook.id);
      }
      return names;
    };
    stats = async () => ({
      storedRows: database ? await database.db.notebookUpdate.count() : null,
      openRooms: collab.rooms().length,
    });
    shutdown = async () => {
      await collab.close();
      await asyncCommit?.$disconnect();
      await database?.drop();
    };
  } else if (kind === 'reference') {
    const require = createRequire(import.meta.url);
    const { setupWSConnection } = require('y-websocket/bin/utils') as {
      setupWSConnection(ws: unknown, request: IncomingMessage, options: { docName: string }): void;
    };
    const wss = new WebSocketServer({ noServer: true });
    http.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
      const docName = (request.url ?? '').split('?')[0]?.replace(/^\/yjs\//, '') ?? '';
      wss.handleUpgrade(request, socket, head, (ws) => setupWSConnection(ws, request, { docName }));
    });
    let next = 0;
    createNotebooks = async (count) => Array.from({ length: count }, () => `doc-${next++}`);
  } else {
    throw new Error(`unknown server kind ${kind}`);
  }

  http.listen(0, '127.0.0.1');
  await once(http, 'listening');
  process.on('message', async (request: Request) => {
    if (request.type === 'notebooks')
      send({ type: 'notebooks', names: await createNotebooks(request.count) });
    if (request.type === 'memory') {
      for (let i = 0; i < 3; i++) gc?.();
      const usage = process.memoryUsage();
      send({ type: 'memory', heapUsed: usage.heapUsed, external: usage.external, rss: usage.rss });
    }
    if (request.type === 'stats') send({ type: 'stats', stats: await stats() });
    if (request.type === 'exit') {
      await shutdown();
      http.closeAllConnections();
      http.close();
      send({ type: 'exited' });
      process.disconnect();
    }
  });
  send({ type: 'ready', port: (http.address() as AddressInfo).port });
}

if (kind) {
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { createUpgradeRouter } from './upgrade-router.ts';

let server: Server | undefined;

afterEach(async () => {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

async function listen(router: ReturnType<typeof createUpgradeRouter>): Promise<string> {
  server = createServer((_req, res) => res.end('ok'));
  server.on('upgrade', (req, socket, head) => router.handle(req, socket, head));
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  return `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function connect(url: string): Promise<{ opened: boolean; status?: number; message?: string }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url);
    ws.on('open', () => ws.close());
    ws.on('message', (data) => resolve({ opened: true, message: String(data) }));
    ws.on('unexpected-response', (_req, res) => resolve({ opened: false, status: res.statusCode }));
    ws.on('error', () => resolve({ opened: false }));
  });
}

describe('createUpgradeRouter', () => {
  it('refuses websocket upgrades on unknown paths with 404', async () => {
    const base = await listen(createUpgradeRouter());
    expect(await connect(`${base}/anything`)).toEqual({ opened: false, status: 404 });
  });

  it('hands a routed upgrade to its handler with the rest of the path', async () => {
    const router = createUpgradeRouter();
    const wss = new WebSocketServer({ noServer: true });
    router.route('/yjs', (req, socket, head, rest) => {
      wss.handleUpgrade(req, socket, head, (ws) => ws.send(`room ${rest}`));
    });
    const base = await listen(router);
    expect(await connect(`${base}/yjs/abc-123`)).toEqual({ opened: true, message: 'room abc-123' });
    expect(await connect(`${base}/yjs/`)).toEqual({ opened: false, status: 404 });
    wss.close();
  });
});

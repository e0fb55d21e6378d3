import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { type CollabServer, createCollabServer, createMemoryStore } from '@kiln/collab';
import WebSocket from 'ws';
import { WebsocketProvider } from 'y-websocket';
import * as Y from 'yjs';

/** A collab server behind a real HTTP server on port 0, as the web app runs it. */
export interface CollabHttp {
  collab: CollabServer;
  /** Base URL for y-websocket clients: `${url}/<notebookId>` is a notebook's room. */
  url: string;
  close(): Promise<void>;
}

export async function startCollabHttp(): Promise<CollabHttp> {
  const collab = createCollabServer({
    store: createMemoryStore(),
    unloadDelayMs: 0,
    onError: () => {},
    // The web app checks the session cookie here; these tests are about what the API writes.
    onAuthenticate: () => ({ userId: 'tester', name: 'Tester', readOnly: false }),
  });
  const http: Server = createServer((_request, response) => response.writeHead(404).end());
  http.on('upgrade', (request, socket, head) => collab.handleUpgrade(request, socket, head));
  const sockets = new Set<Socket>();
  http.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  http.listen(0, '127.0.0.1');
  await once(http, 'listening');
  const { port } = http.address() as AddressInfo;
  return {
    collab,
    url: `ws://127.0.0.1:${port}/yjs`,
    async close() {
      await collab.close();
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => http.close(resolve));
    },
  };
}

/** A stock y-websocket client (what a browser tab runs) on a notebook's room. */
export interface CollabClient {
  doc: Y.Doc;
  provider: WebsocketProvider;
  destroy(): void;
}

export async function connectClient(url: string, notebookId: string): Promise<CollabClient> {
  const doc = new Y.Doc();
  const provider = new WebsocketProvider(url, notebookId, doc, {
    WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
    disableBc: true,
  });
  await waitFor(() => provider.synced, 'the client to sync');
  return {
    doc,
    provider,
    destroy() {
      provider.destroy();
      doc.destroy();
    },
  };
}

/** Polls `condition` every 5 ms; throws after `timeoutMs`. */
export async function waitFor(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

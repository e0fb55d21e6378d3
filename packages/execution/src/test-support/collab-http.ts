import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { type Configuration, createCollabServer } from '@kiln/collab';
import WebSocket from 'ws';
import { WebsocketProvider } from 'y-websocket';
import * as Y from 'yjs';

/** A collab server behind a real HTTP server on port 0, as the web app mounts it. */
export async function startCollabHttp(options: Partial<Configuration> = {}) {
  const collab = createCollabServer({
    onError: () => {},
    unloadDelayMs: 0,
    // Everyone is an editor here; the web app's hook checks the session cookie.
    onAuthenticate: () => ({ userId: 'u-test', name: 'Test', readOnly: false }),
    ...options,
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
  const url = `ws://127.0.0.1:${(http.address() as AddressInfo).port}/yjs`;
  return {
    collab,
    url,
    async close() {
      await collab.close();
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => http.close(resolve));
    },
  };
}

/** A stock y-websocket browser-side client of one notebook room. */
export function connectClient(url: string, notebookId: string) {
  const doc = new Y.Doc();
  const provider = new WebsocketProvider(url, notebookId, doc, {
    WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
    disableBc: true,
  });
  return {
    doc,
    provider,
    close() {
      provider.destroy();
      doc.destroy();
    },
  };
}

import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as decoding from 'lib0/decoding';
import { onTestFinished } from 'vitest';
import WebSocket from 'ws';
import { WebsocketProvider } from 'y-websocket';
import * as Y from 'yjs';
import { createCollabServer } from './collab-server.ts';
import type { CollabServer, Configuration } from './types.ts';

export interface RunningCollab {
  collab: CollabServer;
  /** Base URL for WebsocketProvider: `${url}/<documentName>` is a room. */
  url: string;
  port: number;
  /** Stops accepting, drops every socket without storing anything pending: a crash, not a shutdown. */
  crash(): Promise<void>;
}

/** A collab server behind a real HTTP server on port 0, closed when the test ends. */
export async function startCollab(options: Partial<Configuration> = {}, port = 0): Promise<RunningCollab> {
  const collab = createCollabServer({
    onError: () => {},
    unloadDelayMs: 0,
    onAuthenticate: () => ({ userId: 'tester', name: 'Tester', readOnly: false }),
    ...options,
  });
  const http = createServer((_request, response) => response.writeHead(404).end());
  http.on('upgrade', (request, socket, head) => collab.handleUpgrade(request, socket, head));
  const sockets = new Set<import('node:net').Socket>();
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
    if (graceful) await collab.close();
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => http.close(resolve));
  };
  onTestFinished(() => stop(true));
  return { collab, url: `ws://127.0.0.1:${bound}/yjs`, port: bound, crash: () => stop(false) };
}

export interface Client {
  doc: Y.Doc;
  provider: WebsocketProvider;
  /** Auth messages ("Permission denied") the server sent this client. */
  denials: number;
  /**
   * The document as the server described it to this client (updates and sync step 2 replies): the
   * client's own edits appear here only once the server acknowledged them.
   */
  server: Y.Doc;
}

/** A stock y-websocket client (WebsocketProvider over `ws`), destroyed when the test ends. */
export function connect(url: string, documentName: string, params: Record<string, string> = {}): Client {
  const doc = new Y.Doc();
  const provider = new WebsocketProvider(url, documentName, doc, {
    WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
    params,
    disableBc: true,
    maxBackoffTime: 100,
  });
  const client: Client = { doc, provider, denials: 0, server: new Y.Doc() };
  const sync = provider.messageHandlers[0] as NonNullable<(typeof provider.messageHandlers)[0]>;
  provider.messageHandlers[0] = (encoder, decoder, ...rest) => {
    const peek = decoding.createDecoder(decoder.arr.subarray(decoder.pos));
    // Sync step 1 carries a state vector, step 2 and updates carry document content.
    if (decoding.readVarUint(peek) !== 0) Y.applyUpdate(client.server, decoding.readVarUint8Array(peek));
    sync(encoder, decoder, ...rest);
  };
  // The stock handler only logs "Permission denied"; count instead so tests can see the refusal.
  provider.messageHandlers[2] = () => {
    client.denials++;
  };
  onTestFinished(() => {
    provider.destroy();
    doc.destroy();
    client.server.destroy();
  });
  return client;
}

/** Resolves once the client has completed its first sync with the server. */
export async function synced(client: Client): Promise<void> {
  await waitFor(() => client.provider.synced, 'client synced');
}

/** Polls `condition` every 5 ms; fails the test after `timeoutMs`. */
export async function waitFor(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/**
 * A plain websocket to a room, for sending what a stock client never would. Resolves once the server
 * has opened the room for it (its sync step 1 arrived).
 */
export async function rawSocket(url: string, documentName: string): Promise<WebSocket> {
  const ws = new WebSocket(`${url}/${documentName}`);
  onTestFinished(() => ws.terminate());
  await once(ws, 'message');
  return ws;
}

/** The close code a socket ends with. */
export async function closeCode(ws: WebSocket): Promise<number> {
  if (ws.readyState === ws.CLOSED) throw new Error('socket already closed');
  const [code] = (await once(ws, 'close')) as [number];
  return code;
}

/** The close code of the provider's next closed connection. */
export function nextCloseCode(client: Client): Promise<number> {
  return new Promise((resolve) => {
    const onClose = (event: { code: number } | null) => {
      client.provider.off('connection-close', onClose);
      resolve(event?.code ?? -1);
    };
    client.provider.on('connection-close', onClose);
  });
}

import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { type Configuration, createCollabServer, createMemoryStore, type DocumentStore } from '@kiln/collab';
import { CloseCode, DomainError } from '@kiln/core';
import { describe, expect, it, onTestFinished } from 'vitest';
import WebSocket from 'ws';
import { WebsocketProvider } from 'y-websocket';
import * as Y from 'yjs';
import { type ConnectionKeeper, keepConnection, STORED_ACKS_PARAMS } from './connection-keeper.ts';

// A stock y-websocket provider with the keeper, against the real collab server over real sockets.

/** A memory store whose appends hang while `hung` is set, as a database that stopped answering. */
function hangableStore() {
  const memory = createMemoryStore();
  const held: (() => void)[] = [];
  const state = {
    hung: false,
    resume() {
      state.hung = false;
      for (const go of held.splice(0)) go();
    },
  };
  onTestFinished(() => state.resume());
  const store: DocumentStore = {
    ...memory,
    async append(name, updates) {
      if (state.hung) await new Promise<void>((resolve) => held.push(resolve));
      return memory.append(name, updates);
    },
  };
  return { memory, store, state };
}

async function startServer(options: Partial<Configuration>, port = 0) {
  const collab = createCollabServer({
    onError: () => {},
    unloadDelayMs: 0,
    onAuthenticate: () => ({ userId: 'u', name: 'U', readOnly: false }),
    ...options,
  });
  const http: Server = createServer((_req, res) => res.writeHead(404).end());
  http.on('upgrade', (req, socket, head) => collab.handleUpgrade(req, socket, head));
  const sockets = new Set<Socket>();
  http.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  http.listen(port, '127.0.0.1');
  await once(http, 'listening');
  const bound = (http.address() as AddressInfo).port;
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    for (const socket of sockets) socket.destroy();
    await collab.close();
    await new Promise((resolve) => http.close(resolve));
  };
  onTestFinished(stop);
  return { url: `ws://127.0.0.1:${bound}/yjs`, port: bound, stop };
}

function client(url: string, keeperOptions: { baseDelayMs?: number; maxDelayMs?: number } = {}) {
  const doc = new Y.Doc();
  const provider = new WebsocketProvider(url, 'nb', doc, {
    WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
    params: STORED_ACKS_PARAMS,
    disableBc: true,
  });
  const savedLog: boolean[] = [];
  const keeper: ConnectionKeeper = keepConnection(provider, {
    finalCodes: new Set([CloseCode.unauthenticated, CloseCode.forbidden, CloseCode.notFound]),
    onSavedChange: (saved) => savedLog.push(saved),
    baseDelayMs: 50,
    maxDelayMs: 400,
    ...keeperOptions,
  });
  onTestFinished(() => {
    keeper.dispose();
    provider.destroy();
    doc.destroy();
  });
  return { doc, provider, keeper, savedLog, text: doc.getText('t') };
}

async function waitFor(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function storedText(store: DocumentStore): Promise<string> {
  const doc = new Y.Doc();
  for (const update of (await store.load('nb')).updates) Y.applyUpdate(doc, update);
  return doc.getText('t').toString();
}

describe('saved means stored', () => {
  it('does not say saved while the store hangs, for insertions and deletions alike', async () => {
    const { memory, store, state } = hangableStore();
    const server = await startServer({ store });
    const c = client(server.url);
    await waitFor(() => c.provider.synced, 'synced');
    expect(c.keeper.saved).toBe(true);

    state.hung = true;
    c.text.insert(0, 'hello');
    expect(c.keeper.saved).toBe(false);
    // Connected and synced the whole time, yet nothing is stored: it must keep saying so.
    await sleep(500);
    expect(c.provider.wsconnected).toBe(true);
    expect(c.keeper.saved).toBe(false);
    state.resume();
    await waitFor(() => c.keeper.saved, 'saved after the store answers');
    expect(await storedText(memory)).toBe('hello');

    state.hung = true;
    c.text.delete(0, 2);
    expect(c.keeper.saved).toBe(false);
    await sleep(300);
    expect(c.keeper.saved).toBe(false);
    state.resume();
    await waitFor(() => c.keeper.saved, 'the deletion saved');
    expect(await storedText(memory)).toBe('llo');
  });

  it('keeps edits made offline unsaved until a new server stored them', async () => {
    const { memory, store } = hangableStore();
    const first = await startServer({ store });
    const c = client(first.url);
    await waitFor(() => c.provider.synced, 'synced');
    c.text.insert(0, 'a');
    await waitFor(() => c.keeper.saved, 'first edit saved');

    await first.stop();
    await waitFor(() => !c.provider.wsconnected, 'disconnected');
    c.text.insert(1, 'b');
    expect(c.keeper.saved).toBe(false);
    await sleep(300);
    expect(c.keeper.saved).toBe(false);

    await startServer({ store }, first.port);
    await waitFor(() => c.keeper.saved, 'saved after reconnecting');
    expect(await storedText(memory)).toBe('ab');
    expect(c.savedLog).toEqual([false, true, false, true]);
  });
});

describe('reconnecting', () => {
  it('refuses before the upgrade with a named code, loads no room, and the client backs off', async () => {
    let checks = 0;
    let loads = 0;
    const server = await startServer({
      onAuthenticate: () => {
        checks++;
        throw new DomainError('SERVICE_UNAVAILABLE', 'The database is not answering');
      },
      onLoadDocument: () => {
        loads++;
      },
    });
    const c = client(server.url);
    const codes: number[] = [];
    c.provider.on('connection-close', (event: CloseEvent | null) => codes.push(event?.code ?? -1));
    await sleep(3000);
    // The stock provider retries every 100 ms after each open (about 30 times in 3 s); with backoff
    // capped at 400 ms ±50% it is at most about 12.
    expect(codes.length).toBeGreaterThanOrEqual(3);
    expect(codes.length).toBeLessThanOrEqual(14);
    expect(new Set(codes)).toEqual(new Set([CloseCode.tryAgainLater]));
    expect(checks).toBeLessThanOrEqual(codes.length + 1);
    expect(loads).toBe(0);
    expect(c.keeper.failures).toBe(codes.length);
  });

  it('draws each delay with jitter so many clients do not reconnect in step', async () => {
    const draws = [0, 0.99];
    const delays = new Map<number, number>();
    const server = await startServer({
      onAuthenticate: () => {
        throw new DomainError('SERVICE_UNAVAILABLE', 'down');
      },
    });
    for (const [index, r] of draws.entries()) {
      const doc = new Y.Doc();
      const provider = new WebsocketProvider(server.url, 'nb', doc, {
        WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
        disableBc: true,
      });
      const keeper = keepConnection(provider, {
        finalCodes: new Set(),
        onSavedChange: () => {},
        baseDelayMs: 200,
        random: () => r,
      });
      onTestFinished(() => {
        keeper.dispose();
        provider.destroy();
      });
      let closedAt = 0;
      provider.on('connection-close', () => {
        closedAt = Date.now();
      });
      provider.on('status', ({ status }: { status: string }) => {
        if (status === 'connecting' && closedAt && !delays.has(index))
          delays.set(index, Date.now() - closedAt);
      });
    }
    await waitFor(() => delays.size === 2, 'both clients retried');
    // First retry: 400 ms × (0.5 + r): about 200 ms for one, about 600 ms for the other.
    expect((delays.get(1) ?? 0) - (delays.get(0) ?? 0)).toBeGreaterThan(250);
  });
});

import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { CloseCode, isDomainError } from '@kiln/core';
import { type RawData, type WebSocket, WebSocketServer } from 'ws';
import { defaultConfiguration } from './configuration.ts';
import { type ClientMessage, decodeClientMessage, ProtocolError } from './protocol.ts';
import type { CollabServer, CollabUser, Configuration, DirectConnection } from './types.ts';
import { type Peer, YjsRoom } from './yjs-room.ts';

interface RoomEntry {
  ready: Promise<YjsRoom>;
  room: YjsRoom | null;
  /** Set while the room stores its last updates before leaving memory; new joiners wait for it. */
  unloading: Promise<void> | null;
  unloadTimer: NodeJS.Timeout | null;
}

interface SocketPeer extends Peer {
  ws: WebSocket;
  alive: boolean;
}

/** A y-websocket compatible Yjs server for the notebooks; hand it upgrade requests for `/yjs/<name>`. */
export function createCollabServer(options: Partial<Configuration> = {}): CollabServer {
  const config: Configuration = { ...defaultConfiguration(), ...options };
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: config.maxMessageBytes,
    perMessageDeflate: false,
  });
  const rooms = new Map<string, RoomEntry>();
  const sockets = new Set<WebSocket>();
  let closed = false;

  const pinger = setInterval(() => {
    for (const ws of sockets) {
      const peer = peerOf.get(ws);
      if (peer && !peer.alive) {
        ws.terminate();
        continue;
      }
      if (peer) peer.alive = false;
      ws.ping();
    }
  }, config.pingIntervalMs);
  pinger.unref();
  const peerOf = new WeakMap<WebSocket, SocketPeer>();

  async function acquire(name: string): Promise<YjsRoom> {
    for (;;) {
      const entry = rooms.get(name);
      if (!entry) break;
      if (entry.unloading) {
        await entry.unloading;
        continue;
      }
      if (entry.unloadTimer) {
        clearTimeout(entry.unloadTimer);
        entry.unloadTimer = null;
      }
      return entry.ready;
    }
    const entry: RoomEntry = {
      ready: YjsRoom.load(name, config),
      room: null,
      unloading: null,
      unloadTimer: null,
    };
    rooms.set(name, entry);
    try {
      entry.room = await entry.ready;
    } catch (error) {
      rooms.delete(name);
      throw error;
    }
    return entry.room;
  }

  function release(room: YjsRoom): void {
    const entry = rooms.get(room.name);
    if (!entry || entry.room !== room || !room.isEmpty || entry.unloading || entry.unloadTimer) return;
    entry.unloadTimer = setTimeout(() => {
      entry.unloadTimer = null;
      if (room.isEmpty) void unload(entry, room);
    }, config.unloadDelayMs);
    entry.unloadTimer.unref();
  }

  function unload(entry: RoomEntry, room: YjsRoom): Promise<void> {
    entry.unloading ??= room.idle().finally(() => {
      room.destroy();
      rooms.delete(room.name);
    });
    return entry.unloading;
  }

  async function closeRoom(
    documentName: string,
    close: { code: number; reason: string } = { code: CloseCode.goingAway, reason: 'room closed' },
  ): Promise<void> {
    const entry = rooms.get(documentName);
    if (!entry) return;
    const room = await entry.ready.catch(() => null);
    if (!room) return;
    if (entry.unloadTimer) clearTimeout(entry.unloadTimer);
    entry.unloadTimer = null;
    for (const peer of [...room.peers.keys()]) peer.close(close.code, close.reason);
    await unload(entry, room);
  }

  function closeWith(ws: WebSocket, code: number, reason: string): void {
    if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) ws.close(code, reason);
  }

  function authFailureCode(error: unknown): [number, string] {
    if (!isDomainError(error)) return [CloseCode.internalError, 'authentication failed'];
    if (error.code === 'SERVICE_UNAVAILABLE') return [CloseCode.tryAgainLater, error.message];
    if (error.code === 'FORBIDDEN') return [CloseCode.forbidden, error.message];
    if (error.code === 'NOT_FOUND') return [CloseCode.notFound, error.message];
    return [CloseCode.unauthenticated, error.message];
  }

  async function authenticate(
    request: IncomingMessage,
    documentName: string,
  ): Promise<{ user: CollabUser } | { refused: [number, string] }> {
    try {
      const user = await config.onAuthenticate({ request, documentName });
      return user ? { user } : { refused: [CloseCode.unauthenticated, 'unauthenticated'] };
    } catch (error) {
      if (!isDomainError(error)) config.onError({ documentName, error, stage: 'authenticate' });
      return { refused: authFailureCode(error) };
    }
  }

  function toBytes(data: RawData): Uint8Array {
    if (Array.isArray(data)) return Buffer.concat(data);
    return data instanceof ArrayBuffer ? new Uint8Array(data) : data;
  }

  async function accept(
    ws: WebSocket,
    request: IncomingMessage,
    documentName: string,
    user: CollabUser,
  ): Promise<void> {
    sockets.add(ws);
    const queued: ClientMessage[] = [];
    let room: YjsRoom | null = null;
    let peer: SocketPeer | null = null;

    const onProtocolError = (error: unknown) => {
      const code = error instanceof ProtocolError ? error.closeCode : CloseCode.invalidPayload;
      config.onError({ documentName, error, stage: 'message' });
      closeWith(ws, code, 'malformed message');
    };
    ws.on('message', (data, isBinary) => {
      if (!isBinary) {
        closeWith(ws, CloseCode.unsupportedData, 'y-websocket messages are binary');
        return;
      }
      try {
        const message = decodeClientMessage(toBytes(data), CloseCode.invalidPayload);
        if (room && peer) room.handle(peer, message);
        else if (queued.length < config.maxPendingMessages) queued.push(message);
        else closeWith(ws, CloseCode.policyViolation, 'too many messages before the document opened');
      } catch (error) {
        onProtocolError(error);
      }
    });
    // ws closes the socket itself (1009) when a message exceeds maxPayload, and reports it here.
    ws.on('error', (error) => config.onError({ documentName, error, stage: 'message' }));
    ws.on('pong', () => {
      if (peer) peer.alive = true;
    });
    ws.on('close', () => {
      sockets.delete(ws);
      if (room && peer) {
        room.leave(peer);
        release(room);
      }
    });

    let loaded: YjsRoom;
    try {
      loaded = await acquire(documentName);
    } catch (error) {
      if (isDomainError(error) && error.code === 'NOT_FOUND')
        closeWith(ws, CloseCode.notFound, error.message);
      else {
        config.onError({ documentName, error, stage: 'load' });
        closeWith(ws, CloseCode.internalError, 'could not load the document');
      }
      return;
    }
    const socketPeer: SocketPeer = {
      ws,
      alive: true,
      user: { ...user, readOnly: user.readOnly === true },
      acks: new URL(request.url ?? '/', 'http://x').searchParams.get('acks') === 'stored',
      send: (message) => {
        if (ws.readyState !== ws.OPEN) return;
        if (ws.bufferedAmount > config.maxBufferedBytes) {
          // A close frame would queue behind the same backlog; drop the connection instead.
          ws.terminate();
          return;
        }
        ws.send(message);
      },
      close: (code, reason) => closeWith(ws, code, reason),
    };
    if (ws.readyState !== ws.OPEN) {
      release(loaded);
      return;
    }
    peerOf.set(ws, socketPeer);
    room = loaded;
    peer = socketPeer;
    room.join(peer);
    try {
      for (const message of queued.splice(0)) room.handle(peer, message);
    } catch (error) {
      onProtocolError(error);
    }
  }

  return {
    handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer) {
      const documentName = closed ? null : config.documentName(request);
      if (documentName === null) {
        socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      // Authenticated before the upgrade: a refused client costs one check and gets a named close
      // code at once (final ones stop it, tryAgainLater makes it back off), never a loaded room.
      void authenticate(request, documentName).then((result) => {
        if (socket.destroyed) return;
        if (closed) {
          socket.destroy();
          return;
        }
        wss.handleUpgrade(request, socket, head, (ws) => {
          if ('refused' in result) {
            closeWith(ws, ...result.refused);
            return;
          }
          accept(ws, request, documentName, result.user).catch((error: unknown) => {
            config.onError({ documentName, error, stage: 'message' });
            closeWith(ws, CloseCode.internalError, 'internal error');
          });
        });
      });
    },

    async openDirectConnection(documentName: string): Promise<DirectConnection> {
      const room = await acquire(documentName);
      room.directConnections++;
      let open = true;
      return {
        document: room.doc,
        transact: (change) => room.transact(change),
        async disconnect() {
          if (!open) return;
          open = false;
          room.directConnections--;
          await room.idle();
          release(room);
        },
      };
    },

    closeRoom,

    disconnectUser(userId, close = { code: CloseCode.accessChanged, reason: 'access changed' }) {
      let closed = 0;
      for (const entry of rooms.values()) {
        for (const peer of entry.room?.peers.keys() ?? []) {
          if (peer.user.userId !== userId) continue;
          peer.close(close.code, close.reason);
          closed++;
        }
      }
      return closed;
    },

    async close() {
      closed = true;
      clearInterval(pinger);
      for (const ws of sockets) closeWith(ws, CloseCode.goingAway, 'server shutting down');
      const shutdown = { code: CloseCode.goingAway, reason: 'server shutting down' };
      await Promise.all([...rooms.keys()].map((name) => closeRoom(name, shutdown)));
      for (const ws of sockets) ws.terminate();
      wss.close();
    },

    rooms() {
      return [...rooms.values()].flatMap((entry) =>
        entry.room
          ? [
              {
                documentName: entry.room.name,
                connections: entry.room.peers.size,
                storedUpdates: entry.room.storedRows,
              },
            ]
          : [],
      );
    },
  };
}

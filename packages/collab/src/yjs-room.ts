import { CloseCode, isDomainError } from '@kiln/core';
import * as awarenessProtocol from 'y-protocols/awareness';
import * as Y from 'yjs';
import { bindAwarenessUpdate } from './awareness-identity.ts';
import {
  type ClientMessage,
  changesDocument,
  encodeAwareness,
  encodePermissionDenied,
  encodeStored,
  encodeSyncStep1,
  encodeSyncStep2,
  encodeUpdate,
} from './protocol.ts';
import type { CollabUser, Configuration } from './types.ts';
import { type LoggedUpdate, runHook, UpdateLog } from './update-log.ts';

/** One end of a room: a websocket in production, anything that can take bytes in tests. */
export interface Peer {
  user: CollabUser;
  /** Asked for stored-acknowledgements (`?acks=stored`): told how many of its updates are stored. */
  acks?: boolean;
  send(message: Uint8Array): void;
  close(code: number, reason: string): void;
}

interface PendingUpdate extends LoggedUpdate {
  /** The author, who gets `echo` back (its acknowledgement) once the update is stored. */
  peer: Peer | null;
  settle?: { resolve(): void; reject(error: unknown): void };
}

/**
 * One live document and its sockets.
 *
 * Durability. y-websocket has no acknowledgement message; an author learns that the server holds its
 * edit from (a) the echo of its update (the reference server's broadcast includes the author) and
 * (b) any message describing the server's state after the edit: a sync step 2 reply (its contents and
 * delete set) or the server's sync step 1 (its state vector), e.g. when it reconnects after a 1011.
 * Those are the acknowledgements, and only they wait for the store: an author's echo is sent once the
 * append holding its update has committed, and a sync step 1 or 2 is computed when asked for but sent
 * only once everything the room had applied by then is stored (`sendWhenStored`).
 *
 * Everything else goes out at once: an update is applied to the room's Y.Doc and broadcast to the
 * other peers before it is stored. That loses no acknowledged edit. Until the echo arrives the author
 * keeps the edit and, like every peer that received it, sends it again in its sync step 2 whenever it
 * reconnects, to whichever process then serves the room (updates are idempotent and commutative); a
 * crash loses an edit only if every holder goes away before it is stored, and then its author was
 * never told it was saved. An edit built on an unstored one is acknowledged only after it: the log
 * appends in the order updates were applied, and after a failed append it stores the whole document
 * next (see UpdateLog), so no acknowledgement rests on a missing row. A failed append closes its
 * authors, and the peers waiting for a sync message, with 1011; they reconnect and resend, and their
 * sync step 1 makes the log store the whole document.
 */
export class YjsRoom {
  readonly doc = new Y.Doc();
  readonly awareness = new awarenessProtocol.Awareness(this.doc);
  readonly peers = new Map<Peer, Set<number>>();
  directConnections = 0;
  private readonly log: UpdateLog<PendingUpdate>;
  /** Update messages received per peer that asked for stored-acknowledgements. */
  private readonly updatesReceived = new WeakMap<Peer, number>();
  /** The peer update being applied, so the doc's update handler knows whom not to send it to yet. */
  private applying: PendingUpdate | null = null;

  private constructor(
    readonly name: string,
    private readonly config: Configuration,
  ) {
    this.log = new UpdateLog(name, config, {
      encodeState: () => Y.encodeStateAsUpdate(this.doc),
      stored: (batch) => this.acknowledge(batch),
      failed: (batch, error) => this.refuse(batch, error),
    });
  }

  /** Loads `name` from the store (running `onLoadDocument`) and starts serving it. */
  static async load(name: string, config: Configuration): Promise<YjsRoom> {
    const room = new YjsRoom(name, config);
    const stored = await config.store.load(name);
    for (const update of stored.updates) {
      try {
        Y.applyUpdate(room.doc, update);
      } catch (error) {
        // One undecodable row must not make the rest of the document unreachable.
        config.onError({ documentName: name, error, stage: 'load' });
      }
    }
    room.log.loaded(stored.updates.length, stored.lastId);
    const seeded: Uint8Array[] = [];
    const collect = (update: Uint8Array) => seeded.push(update);
    room.doc.on('update', collect);
    await config.onLoadDocument({ documentName: name, document: room.doc, isNew: stored.lastId === null });
    room.doc.off('update', collect);
    if (seeded.length > 0) room.log.stored(seeded, await config.store.append(name, seeded));
    room.awareness.setLocalState(null);
    room.doc.on('update', room.onDocumentUpdate);
    room.awareness.on('update', room.onAwarenessUpdate);
    return room;
  }

  join(peer: Peer): void {
    this.peers.set(peer, new Set());
    this.sendWhenStored(peer, encodeSyncStep1(this.doc));
    const states = [...this.awareness.getStates().keys()];
    if (states.length > 0) peer.send(encodeAwareness(this.awareness, states));
  }

  leave(peer: Peer): void {
    const controlled = this.peers.get(peer);
    if (!controlled) return;
    this.peers.delete(peer);
    awarenessProtocol.removeAwarenessStates(this.awareness, [...controlled], null);
  }

  get isEmpty(): boolean {
    return this.peers.size === 0 && this.directConnections === 0;
  }

  handle(peer: Peer, message: ClientMessage): void {
    switch (message.type) {
      case 'syncStep1':
        this.sendWhenStored(peer, encodeSyncStep2(this.doc, message.stateVector));
        return;
      case 'update':
        this.handleUpdate(peer, message);
        this.acknowledgeStored(peer);
        return;
      case 'awareness': {
        const bound = bindAwarenessUpdate(message.update, peer.user, (clientId) =>
          [...this.peers].some(([other, controlled]) => other !== peer && controlled.has(clientId)),
        );
        if (bound) awarenessProtocol.applyAwarenessUpdate(this.awareness, bound, peer);
        return;
      }
      case 'queryAwareness':
        peer.send(encodeAwareness(this.awareness, [...this.awareness.getStates().keys()]));
        return;
      case 'ignored':
        return;
    }
  }

  /**
   * Tells a peer that asked how many of its update messages are stored, once everything the room
   * applied so far is (a failed append closes the peer instead, and it resends on reconnect).
   */
  private acknowledgeStored(peer: Peer): void {
    if (!peer.acks) return;
    const count = (this.updatesReceived.get(peer) ?? 0) + 1;
    this.updatesReceived.set(peer, count);
    this.log.whenStored(
      () => peer.send(encodeStored(count)),
      () => {},
    );
  }

  private handleUpdate(peer: Peer, message: Extract<ClientMessage, { type: 'update' }>): void {
    if (!changesDocument(this.doc, message.decoded)) {
      // An author resending an edit the room holds but failed to store: store it now.
      if (!peer.user.readOnly) this.log.repair();
      return;
    }
    if (peer.user.readOnly) {
      // Told, not closed: a closed provider reconnects and resends the same edit in its sync step 2,
      // forever. The edit is neither applied nor broadcast.
      peer.send(encodePermissionDenied('read-only: document updates are not accepted'));
      return;
    }
    this.apply(peer, message.update);
  }

  /** Runs a server-side change; resolves once it is stored (it is broadcast at once). */
  transact(change: (document: Y.Doc) => void): Promise<void> {
    return new Promise((resolve, reject) => {
      const origin = { settle: { resolve, reject }, used: false };
      this.doc.transact(() => change(this.doc), origin);
      if (!origin.used) resolve();
    });
  }

  /** Rows in the store for this document, as far as this process knows. */
  get storedRows(): number {
    return this.log.storedRows;
  }

  /** Resolves when every update received so far is stored (or failed to) and no compaction runs. */
  idle(): Promise<void> {
    return this.log.idle();
  }

  destroy(): void {
    this.awareness.destroy();
    this.doc.destroy();
  }

  private apply(peer: Peer, update: Uint8Array): void {
    const item: PendingUpdate = { seq: 0, update: update.slice(), peer, echo: null };
    this.applying = item;
    try {
      Y.applyUpdate(this.doc, update, peer);
    } catch (error) {
      // Decoded fine but Yjs cannot integrate it. Whatever it changed before throwing is stored as
      // the doc emitted it; the raw update would fail again on load.
      this.config.onError({ documentName: this.name, error, stage: 'message' });
      peer.close(CloseCode.invalidPayload, 'update could not be applied');
      if (item.echo === null) return;
      item.update = item.echo;
      item.peer = null;
    } finally {
      this.applying = null;
    }
    this.log.append(item);
  }

  private readonly onDocumentUpdate = (update: Uint8Array, origin: unknown) => {
    const item = this.applying;
    if (item && origin === item.peer) {
      item.echo = item.echo === null ? update : Y.mergeUpdates([item.echo, update]);
      this.broadcast(encodeUpdate(update), item.peer);
      return;
    }
    const direct = origin as { settle?: PendingUpdate['settle']; used?: boolean } | null;
    if (direct && typeof direct === 'object' && 'settle' in direct) direct.used = true;
    this.broadcast(encodeUpdate(update));
    this.log.append({ seq: 0, update, peer: null, echo: update, settle: direct?.settle });
  };

  private readonly onAwarenessUpdate = (
    { added, updated, removed }: { added: number[]; updated: number[]; removed: number[] },
    origin: unknown,
  ) => {
    const controlled = this.peers.get(origin as Peer);
    if (controlled) {
      for (const client of added) controlled.add(client);
      for (const client of removed) controlled.delete(client);
    }
    this.broadcast(encodeAwareness(this.awareness, [...added, ...updated, ...removed]));
  };

  private broadcast(message: Uint8Array, except: Peer | null = null): void {
    for (const peer of this.peers.keys()) if (peer !== except) peer.send(message);
  }

  /** Sends a message describing the room's current state once that state is stored. */
  private sendWhenStored(peer: Peer, message: Uint8Array): void {
    this.log.whenStored(
      () => peer.send(message),
      () => peer.close(CloseCode.internalError, 'could not store the document'),
    );
  }

  private acknowledge(batch: PendingUpdate[]): void {
    const changes: Uint8Array[] = [];
    for (const item of batch) {
      if (item.echo === null) continue;
      changes.push(item.echo);
      item.peer?.send(encodeUpdate(item.echo));
    }
    for (const item of batch) item.settle?.resolve();
    if (changes.length === 0) return;
    const update = changes.length === 1 ? (changes[0] as Uint8Array) : Y.mergeUpdates(changes);
    const users = [...new Set(batch.flatMap((item) => (item.peer ? [item.peer.user] : [])))];
    runHook(this.config, this.name, () =>
      this.config.onChange({ documentName: this.name, document: this.doc, update, users }),
    );
  }

  private refuse(batch: PendingUpdate[], error: unknown): void {
    if (isDomainError(error) && error.code === 'NOT_FOUND') {
      // The document was deleted: nobody may keep editing it.
      for (const peer of this.peers.keys()) peer.close(CloseCode.notFound, error.message);
    }
    // Unstored edits were never acknowledged; their authors resend them when they reconnect.
    for (const item of batch) {
      item.peer?.close(CloseCode.internalError, 'could not store the update');
      item.settle?.reject(error);
    }
  }
}

/** True for the transaction origin of an update a client sent (false for server-side writes). */
export function isClientOrigin(origin: unknown): origin is Peer {
  return typeof origin === 'object' && origin !== null && 'user' in origin && 'send' in origin;
}

import { CloseCode, isDomainError } from '@kiln/core';
import * as awarenessProtocol from 'y-protocols/awareness';
import * as Y from 'yjs';
import {
  type ClientMessage,
  changesDocument,
  encodeAwareness,
  encodePermissionDenied,
  encodeSyncStep1,
  encodeSyncStep2,
  encodeUpdate,
} from './protocol.ts';
import type { CollabUser, Configuration, UpdateId } from './types.ts';

/** One end of a room: a websocket in production, anything that can take bytes in tests. */
export interface Peer {
  user: CollabUser;
  send(message: Uint8Array): void;
  close(code: number, reason: string): void;
}

interface PendingUpdate {
  update: Uint8Array;
  peer: Peer | null;
  /** Already in the document (a server-side change): store and broadcast, do not apply again. */
  applied: boolean;
  settle?: { resolve(): void; reject(error: unknown): void };
}

// Origin of the updates the room applies after storing them; the doc's update handler broadcasts those.
const STORED = Symbol('stored');

/**
 * One live document and its sockets.
 *
 * Durability: a client update is appended to the store before it is applied to the room's Y.Doc, and
 * only the Y.Doc is ever sent to clients. y-websocket has no acknowledgement message, so the
 * acknowledgement of an edit is the server echoing it back (the update broadcast reaches its author
 * too, as in the reference server) or a sync step 2 reply containing it; both come from the Y.Doc and
 * thus only after the edit is stored. An edit that was never acknowledged is not lost either: the
 * client still holds it and sends it again in its sync step 2 when it reconnects.
 *
 * Updates arriving while an append is in flight are stored together in the next append (group
 * commit), so the store sees one write per round trip rather than one per keystroke.
 */
export class YjsRoom {
  readonly doc = new Y.Doc();
  readonly awareness = new awarenessProtocol.Awareness(this.doc);
  readonly peers = new Map<Peer, Set<number>>();
  directConnections = 0;
  storedRows = 0;
  private lastId: UpdateId | null = null;
  private pending: PendingUpdate[] = [];
  private flushing: Promise<void> | null = null;
  private compacting: Promise<void> | null = null;

  private constructor(
    readonly name: string,
    private readonly config: Configuration,
  ) {}

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
    room.storedRows = stored.updates.length;
    room.lastId = stored.lastId;
    const seeded: Uint8Array[] = [];
    const collect = (update: Uint8Array) => seeded.push(update);
    room.doc.on('update', collect);
    await config.onLoadDocument({ documentName: name, document: room.doc, isNew: stored.lastId === null });
    room.doc.off('update', collect);
    if (seeded.length > 0) room.stored(seeded, await config.store.append(name, seeded));
    room.awareness.setLocalState(null);
    room.doc.on('update', room.onDocumentUpdate);
    room.awareness.on('update', room.onAwarenessUpdate);
    return room;
  }

  join(peer: Peer): void {
    this.peers.set(peer, new Set());
    peer.send(encodeSyncStep1(this.doc));
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
        peer.send(encodeSyncStep2(this.doc, message.stateVector));
        return;
      case 'update':
        if (!changesDocument(this.doc, message.decoded)) return;
        if (peer.user.readOnly) {
          // Told, not closed: a closed provider reconnects and resends the same edit in its sync step 2,
          // forever. The edit is neither applied nor broadcast.
          peer.send(encodePermissionDenied('read-only: document updates are not accepted'));
          return;
        }
        this.enqueue({ update: message.update.slice(), peer, applied: false });
        return;
      case 'awareness':
        awarenessProtocol.applyAwarenessUpdate(this.awareness, message.update, peer);
        return;
      case 'queryAwareness':
        peer.send(encodeAwareness(this.awareness, [...this.awareness.getStates().keys()]));
        return;
      case 'ignored':
        return;
    }
  }

  /** Runs a server-side change; resolves once it is stored and broadcast. */
  transact(change: (document: Y.Doc) => void): Promise<void> {
    return new Promise((resolve, reject) => {
      const origin = { settle: { resolve, reject }, used: false };
      this.doc.transact(() => change(this.doc), origin);
      if (!origin.used) resolve();
    });
  }

  /** Resolves when every update received so far is stored and no compaction is running. */
  async idle(): Promise<void> {
    while (this.flushing || this.compacting) await (this.flushing ?? this.compacting);
  }

  destroy(): void {
    this.awareness.destroy();
    this.doc.destroy();
  }

  private readonly onDocumentUpdate = (update: Uint8Array, origin: unknown) => {
    if (origin === STORED) {
      this.broadcast(encodeUpdate(update));
      return;
    }
    const direct = origin as { settle?: PendingUpdate['settle']; used?: boolean } | null;
    if (direct && typeof direct === 'object' && 'settle' in direct) direct.used = true;
    this.enqueue({ update, peer: null, applied: true, settle: direct?.settle });
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

  private broadcast(message: Uint8Array): void {
    for (const peer of this.peers.keys()) peer.send(message);
  }

  private enqueue(item: PendingUpdate): void {
    this.pending.push(item);
    this.flushing ??= this.flush();
  }

  private async flush(): Promise<void> {
    try {
      await this.flushPending();
    } catch (error) {
      this.config.onError({ documentName: this.name, error, stage: 'store' });
    } finally {
      this.flushing = null;
      // An update enqueued after the loop's last check, while this promise settled, saw a flush running.
      if (this.pending.length > 0) this.flushing = this.flush();
    }
  }

  private async flushPending(): Promise<void> {
    while (this.pending.length > 0) {
      const batch = this.pending.splice(0);
      const updates = batch.map((item) => item.update);
      let id: UpdateId;
      try {
        id = await this.config.store.append(this.name, updates);
      } catch (error) {
        if (isDomainError(error) && error.code === 'NOT_FOUND') {
          // The document was deleted: nobody may keep editing it.
          for (const peer of this.peers.keys()) peer.close(CloseCode.notFound, error.message);
        } else {
          this.config.onError({ documentName: this.name, error, stage: 'store' });
        }
        // Unstored edits were never acknowledged; their authors resend them when they reconnect.
        for (const item of batch) {
          item.peer?.close(CloseCode.internalError, 'could not store the update');
          item.settle?.reject(error);
        }
        continue;
      }
      // Counted and applied in one synchronous step: a compaction starting in between would fold
      // away rows whose content its state does not hold yet.
      this.stored(updates, id);
      const changes: Uint8Array[] = [];
      const fresh = batch.filter((item) => !item.applied);
      if (fresh.length > 0) {
        // One transaction, so one 'update' event: the batch reaches clients as one message.
        // (Y.mergeUpdates would do the same but grows quadratically with the batch.)
        const capture = (update: Uint8Array) => changes.push(update);
        this.doc.on('update', capture);
        this.doc.transact(() => {
          for (const item of fresh) {
            try {
              Y.applyUpdate(this.doc, item.update, STORED);
            } catch (error) {
              // Decoded fine but Yjs cannot integrate it; loading skips such a row the same way.
              this.config.onError({ documentName: this.name, error, stage: 'message' });
              item.peer?.close(CloseCode.invalidPayload, 'update could not be applied');
            }
          }
        }, STORED);
        this.doc.off('update', capture);
      }
      for (const item of batch) {
        if (item.applied) {
          this.broadcast(encodeUpdate(item.update));
          changes.push(item.update);
        }
        item.settle?.resolve();
      }
      if (changes.length > 0) {
        const update = changes.length === 1 ? (changes[0] as Uint8Array) : Y.mergeUpdates(changes);
        const users = [...new Set(batch.flatMap((item) => (item.peer ? [item.peer.user] : [])))];
        this.runHook(() =>
          this.config.onChange({ documentName: this.name, document: this.doc, update, users }),
        );
      }
      this.maybeCompact();
    }
  }

  private stored(updates: Uint8Array[], id: UpdateId): void {
    this.storedRows += updates.length;
    // Never lowered: a compaction's state row can be newer than a batch stored concurrently.
    if (this.lastId === null || id > this.lastId) this.lastId = id;
    this.runHook(() => this.config.afterStore({ documentName: this.name, updates, id }));
  }

  private maybeCompact(): void {
    if (this.compacting || this.lastId === null || this.storedRows <= this.config.compactAfterUpdates) return;
    // Every row up to lastId is in the doc: rows are applied right after they are appended, in order.
    const state = Y.encodeStateAsUpdate(this.doc);
    const upToId = this.lastId;
    const folded = this.storedRows;
    let compacted = false;
    this.compacting = this.config.store
      .compact(this.name, state, upToId, folded)
      .then(
        (stateId) => {
          if (stateId === null) return;
          compacted = true;
          this.storedRows = this.storedRows - folded + 1;
          // The state row may be newer than every row this room appended; the next compaction must
          // fold it too, or its row count check would never match again.
          if (this.lastId === null || stateId > this.lastId) this.lastId = stateId;
        },
        (error: unknown) => this.config.onError({ documentName: this.name, error, stage: 'compact' }),
      )
      .finally(() => {
        this.compacting = null;
        // Updates stored meanwhile may be over the limit again, with no flush left to notice.
        if (compacted) this.maybeCompact();
      });
  }

  private runHook(hook: () => Promise<void> | void): void {
    try {
      Promise.resolve(hook()).catch((error: unknown) =>
        this.config.onError({ documentName: this.name, error, stage: 'hook' }),
      );
    } catch (error) {
      this.config.onError({ documentName: this.name, error, stage: 'hook' });
    }
  }
}

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
  /** Position in the order the room applied its updates. */
  seq: number;
  /** What is stored: a peer's update as received, a server-side change as the doc emitted it. */
  update: Uint8Array;
  peer: Peer | null;
  /** What applying it changed in the doc: the author's echo (its acknowledgement) and `onChange`. */
  echo: Uint8Array | null;
  settle?: { resolve(): void; reject(error: unknown): void };
}

/** A message describing the room's state, held back until that state is stored. */
interface Waiter {
  seq: number;
  peer: Peer;
  message: Uint8Array;
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
 * reconnects, to whichever process then serves the room (updates are idempotent and commutative). An
 * edit built on an unstored one is acknowledged only after it: appends run in the order updates were
 * applied, and after a failed append the room is dirty and its next append stores the whole document
 * instead of the batch, so a later acknowledgement never rests on a missing row. A failed append
 * closes its authors with 1011 (they reconnect and resend) and rejects the waiting messages' peers;
 * the dirty state is stored by the next append, a reconnect (its sync step 1 asks for it), an edit
 * resent while dirty, a compaction (whose state row holds the whole document) or the room's unload.
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
  /** The peer update being applied, so the doc's update handler knows whom not to send it to yet. */
  private applying: PendingUpdate | null = null;
  private appliedSeq = 0;
  /** Every update up to this seq is in the store (as its own row or inside a stored whole state). */
  private durableSeq = 0;
  /** The highest seq of a failed append; above `durableSeq` the doc holds updates no row has. */
  private failedUpTo = 0;
  private repairRequested = false;
  private waiters: Waiter[] = [];

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
        if (!changesDocument(this.doc, message.decoded)) {
          // An author resending an edit the room holds but failed to store: store it now.
          if (this.dirty && !peer.user.readOnly) this.requestRepair();
          return;
        }
        if (peer.user.readOnly) {
          // Told, not closed: a closed provider reconnects and resends the same edit in its sync step 2,
          // forever. The edit is neither applied nor broadcast.
          peer.send(encodePermissionDenied('read-only: document updates are not accepted'));
          return;
        }
        this.apply(peer, message.update);
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

  /** Runs a server-side change; resolves once it is stored (it is broadcast at once). */
  transact(change: (document: Y.Doc) => void): Promise<void> {
    return new Promise((resolve, reject) => {
      const origin = { settle: { resolve, reject }, used: false };
      this.doc.transact(() => change(this.doc), origin);
      if (!origin.used) resolve();
    });
  }

  /** Resolves when every update received so far is stored (or failed to) and no compaction runs. */
  async idle(): Promise<void> {
    await this.settled();
    if (!this.dirty) return;
    this.requestRepair();
    await this.settled();
  }

  destroy(): void {
    this.awareness.destroy();
    this.doc.destroy();
  }

  private get dirty(): boolean {
    return this.failedUpTo > this.durableSeq;
  }

  private async settled(): Promise<void> {
    while (this.flushing || this.compacting) await (this.flushing ?? this.compacting);
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
    this.enqueue(item);
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
    this.enqueue({ seq: 0, update, peer: null, echo: update, settle: direct?.settle });
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
    if (this.durableSeq === this.appliedSeq) {
      peer.send(message);
      return;
    }
    this.waiters.push({ seq: this.appliedSeq, peer, message });
    if (this.dirty) this.requestRepair();
  }

  private settleWaiters(failedUpTo: number | null): void {
    const waiting: Waiter[] = [];
    for (const waiter of this.waiters) {
      if (waiter.seq <= this.durableSeq) waiter.peer.send(waiter.message);
      else if (failedUpTo !== null && waiter.seq <= failedUpTo)
        waiter.peer.close(CloseCode.internalError, 'could not store the document');
      else waiting.push(waiter);
    }
    this.waiters = waiting;
  }

  private enqueue(item: PendingUpdate): void {
    item.seq = ++this.appliedSeq;
    this.pending.push(item);
    this.flushing ??= this.flush();
  }

  private requestRepair(): void {
    this.repairRequested = true;
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
      if (this.pending.length > 0 || this.repairRequested) this.flushing = this.flush();
    }
  }

  private async flushPending(): Promise<void> {
    while (this.pending.length > 0 || this.repairRequested) {
      this.repairRequested = false;
      const batch = this.pending.splice(0);
      const upTo = this.appliedSeq;
      const repair = this.dirty;
      if (!repair && batch.length === 0) continue;
      // The doc holds updates a failed append lost: store all of it, which covers this batch too.
      const updates = repair ? [Y.encodeStateAsUpdate(this.doc)] : batch.map((item) => item.update);
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
        this.failedUpTo = Math.max(this.failedUpTo, upTo);
        // Unstored edits were never acknowledged; their authors resend them when they reconnect.
        for (const item of batch) {
          item.peer?.close(CloseCode.internalError, 'could not store the update');
          item.settle?.reject(error);
        }
        this.settleWaiters(upTo);
        continue;
      }
      this.durableSeq = Math.max(this.durableSeq, upTo);
      this.stored(updates, id);
      const changes: Uint8Array[] = [];
      for (const item of batch) {
        if (item.echo === null) continue;
        changes.push(item.echo);
        item.peer?.send(encodeUpdate(item.echo));
      }
      for (const item of batch) item.settle?.resolve();
      this.settleWaiters(null);
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
    // Every row up to lastId is in the doc: updates are applied before they are appended.
    const state = Y.encodeStateAsUpdate(this.doc);
    const covers = this.appliedSeq;
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
          // The state row holds every update applied before it was encoded, stored or not.
          this.durableSeq = Math.max(this.durableSeq, covers);
          this.settleWaiters(null);
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

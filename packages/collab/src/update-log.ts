import { isDomainError } from '@kiln/core';
import type { Configuration, UpdateId } from './types.ts';

/** An update the room has applied, waiting for its append. */
export interface LoggedUpdate {
  /** Position in the order the room applied its updates; set by `UpdateLog.append`. */
  seq: number;
  /** What is stored: a peer's update as received, a server-side change as the doc emitted it. */
  update: Uint8Array;
  /** What applying it changed in the doc (an author's echo, `onChange`), or null. */
  echo: Uint8Array | null;
}

/** What the log asks of the room it stores. */
export interface UpdateLogOwner<T extends LoggedUpdate> {
  /** The whole document as one update, holding everything applied so far. */
  encodeState(): Uint8Array;
  /** A batch was appended (or its content stored inside a whole state). */
  stored(batch: T[]): void;
  /** Appending a batch failed; nothing of it may be acknowledged. */
  failed(batch: T[], error: unknown): void;
}

interface Waiter {
  seq: number;
  ready(): void;
  failed(): void;
}

/**
 * A room's update log: appends what the room applied, in order, one store write per round trip
 * (updates applied while an append runs go together into the next: group commit), and tells when
 * state the room has shown is durable. After a failed append the log is dirty: the room holds
 * updates no row has, so its next append stores the whole document instead of the batch, and no
 * later acknowledgement rests on a missing row. Past `compactAfterUpdates` rows it folds the log.
 */
export class UpdateLog<T extends LoggedUpdate> {
  storedRows = 0;
  private lastId: UpdateId | null = null;
  private pending: T[] = [];
  private flushing: Promise<void> | null = null;
  private compacting: Promise<void> | null = null;
  private appliedSeq = 0;
  /** Every update up to this seq is in the store (as its own row or inside a stored whole state). */
  private durableSeq = 0;
  /** The highest seq of a failed append; above `durableSeq` the doc holds updates no row has. */
  private failedUpTo = 0;
  private repairRequested = false;
  private waiters: Waiter[] = [];

  constructor(
    private readonly name: string,
    private readonly config: Configuration,
    private readonly owner: UpdateLogOwner<T>,
  ) {}

  /** True after a failed append, until the whole document is stored again. */
  get dirty(): boolean {
    return this.failedUpTo > this.durableSeq;
  }

  /** Records rows that are already stored: the loaded log, or content seeded on load. */
  loaded(rows: number, lastId: UpdateId | null): void {
    this.storedRows = rows;
    this.lastId = lastId;
  }

  /** Records rows appended outside the log (seeded content) and runs `afterStore`. */
  stored(updates: Uint8Array[], id: UpdateId): void {
    this.storedRows += updates.length;
    // Never lowered: a compaction's state row can be newer than a batch stored concurrently.
    if (this.lastId === null || id > this.lastId) this.lastId = id;
    runHook(this.config, this.name, () => this.config.afterStore({ documentName: this.name, updates, id }));
  }

  /** Queues an update the room has just applied. */
  append(item: T): void {
    item.seq = ++this.appliedSeq;
    this.pending.push(item);
    this.flushing ??= this.flush();
  }

  /**
   * Runs `ready` once everything applied so far is stored (at once if it is), `failed` if the append
   * that should have stored it fails. A dirty log starts storing the whole document.
   */
  whenStored(ready: () => void, failed: () => void): void {
    if (this.durableSeq === this.appliedSeq) {
      ready();
      return;
    }
    this.waiters.push({ seq: this.appliedSeq, ready, failed });
    if (this.dirty) this.repair();
  }

  /** Stores the whole document if an append failed since it was last stored. */
  repair(): void {
    if (!this.dirty) return;
    this.repairRequested = true;
    this.flushing ??= this.flush();
  }

  /** Resolves when every update appended so far is stored (or failed to be) and no compaction runs. */
  async idle(): Promise<void> {
    await this.settled();
    if (!this.dirty) return;
    this.repair();
    await this.settled();
  }

  private async settled(): Promise<void> {
    while (this.flushing || this.compacting) await (this.flushing ?? this.compacting);
  }

  private async flush(): Promise<void> {
    try {
      await this.flushPending();
    } catch (error) {
      this.config.onError({ documentName: this.name, error, stage: 'store' });
    } finally {
      this.flushing = null;
      // An update appended after the loop's last check, while this promise settled, saw a flush running.
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
      // Updates are applied before they are stored, so the whole state covers this batch too.
      const updates = repair ? [this.owner.encodeState()] : batch.map((item) => item.update);
      let id: UpdateId;
      try {
        id = await this.config.store.append(this.name, updates);
      } catch (error) {
        if (!isDomainError(error) || error.code !== 'NOT_FOUND')
          this.config.onError({ documentName: this.name, error, stage: 'store' });
        this.failedUpTo = Math.max(this.failedUpTo, upTo);
        this.owner.failed(batch, error);
        this.settleWaiters(upTo);
        continue;
      }
      this.durableSeq = Math.max(this.durableSeq, upTo);
      this.stored(updates, id);
      this.owner.stored(batch);
      this.settleWaiters(null);
      this.maybeCompact();
    }
  }

  private settleWaiters(failedUpTo: number | null): void {
    const waiting: Waiter[] = [];
    for (const waiter of this.waiters) {
      if (waiter.seq <= this.durableSeq) waiter.ready();
      else if (failedUpTo !== null && waiter.seq <= failedUpTo) waiter.failed();
      else waiting.push(waiter);
    }
    this.waiters = waiting;
  }

  private maybeCompact(): void {
    if (this.compacting || this.lastId === null || this.storedRows <= this.config.compactAfterUpdates) return;
    // Every row up to lastId is in the doc: updates are applied before they are appended.
    const state = this.owner.encodeState();
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
}

/** Runs a hook without letting its failure (thrown or rejected) escape; it goes to `onError`. */
export function runHook(config: Configuration, name: string, hook: () => Promise<void> | void): void {
  try {
    Promise.resolve(hook()).catch((error: unknown) =>
      config.onError({ documentName: name, error, stage: 'hook' }),
    );
  } catch (error) {
    config.onError({ documentName: name, error, stage: 'hook' });
  }
}

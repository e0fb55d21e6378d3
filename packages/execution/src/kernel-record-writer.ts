import type { KernelRecord, KernelStore } from './types.ts';

/**
 * Keeps a notebook's kernel record in the store: writes only when it changed, one write at a time and
 * in order, and nothing after `stop()` (a detached process leaves the record for its successor).
 */
export class KernelRecordWriter {
  private last = '';
  private pending: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(
    private readonly store: KernelStore | undefined,
    private readonly notebookId: string,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** Stores `record` (null removes it) unless it is what was stored last; resolves once it is. */
  write(record: KernelRecord | null): Promise<void> {
    const store = this.store;
    if (!store || this.stopped) return this.pending;
    const key = JSON.stringify(record);
    if (key === this.last) return this.pending;
    this.last = key;
    this.pending = this.pending
      .then(() => (record ? store.save(record) : store.remove(this.notebookId)))
      .catch((error: unknown) => this.onError(error));
    return this.pending;
  }

  /** Resolves once every write asked for so far is done. */
  settled(): Promise<void> {
    return this.pending;
  }

  /** Writes nothing more; resolves once the writes already asked for are done. */
  stop(): Promise<void> {
    this.stopped = true;
    return this.pending;
  }
}

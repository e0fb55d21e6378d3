import type { DirectConnection } from '@kiln/collab';
import type * as Y from 'yjs';
import { writeExecutionState, writeKernelMessage } from './execution-state.ts';
import type { ExecutionStateView } from './types.ts';

export interface SessionWritesOptions {
  connection: DirectConnection;
  /** The published execution state, written after every change. */
  view(): ExecutionStateView;
  /** Stores the kernel record if it changed (after every change). */
  persist(): Promise<void>;
  /** Resolves once every kernel record write so far is stored. */
  recordsSettled(): Promise<void>;
  /** The session is closed: nothing more is written. */
  closed(): boolean;
  onError(error: unknown, stage: string): void;
}

/**
 * How a notebook session writes its document: each change in one transaction with the published
 * execution state, and each kernel message in one transaction with its msg_id as the document's mark,
 * which the changes it causes join.
 */
export class SessionWrites {
  private lastWrite: Promise<void> = Promise.resolve();
  /** While a kernel message is applied: its transaction, which writes join; resolves once stored. */
  private batch: Promise<void> | null = null;

  constructor(private readonly options: SessionWritesOptions) {}

  /** Resolves once every change written so far is stored and broadcast. */
  flushed(): Promise<void> {
    return this.lastWrite;
  }

  /** One transaction: `change`, then the published state; resolves once stored and broadcast. */
  write(change: (doc: Y.Doc) => void): Promise<void> {
    if (this.options.closed()) return Promise.resolve();
    if (this.batch) {
      // Inside a kernel message's transaction: stored with it.
      try {
        change(this.options.connection.document);
        writeExecutionState(this.options.connection.document, this.options.view());
      } catch (error) {
        this.options.onError(error, 'store');
      }
      void this.options.persist();
      return this.batch;
    }
    this.lastWrite = this.options.connection
      .transact((doc) => {
        change(doc);
        writeExecutionState(doc, this.options.view());
      })
      .catch((error: unknown) => this.options.onError(error, 'store'));
    void this.options.persist();
    return this.lastWrite;
  }

  /**
   * Applies one kernel message and marks the document with its msg_id in one transaction (writes it
   * causes join it), so the stored document says which messages it holds; resolves once that is
   * stored and so is the kernel record it may have changed (a restart must not re-run or re-probe it).
   */
  applyKernelMessage(msgId: string, handle: () => void): Promise<void> {
    if (this.options.closed()) {
      handle();
      return Promise.reject(new Error('The notebook session is closed'));
    }
    let joined: () => void = () => {};
    this.batch = new Promise((resolve) => {
      joined = resolve;
    });
    let stored: Promise<void>;
    try {
      stored = this.options.connection.transact((doc) => {
        handle();
        writeKernelMessage(doc, msgId);
      });
    } finally {
      this.batch = null;
    }
    this.lastWrite = stored.catch((error: unknown) => this.options.onError(error, 'store'));
    void this.lastWrite.then(joined);
    return stored.then(() => this.options.recordsSettled());
  }
}

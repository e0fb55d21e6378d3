import type { JupyterMessage } from '@kiln/kernel-protocol/client';

export interface KernelMessageAcksOptions {
  /** The msg_id of the last kernel message the stored document holds (an earlier process's). */
  lastStored: string | null;
  /** Applies one message with its msg_id as the document's mark, in one transaction; resolves once stored. */
  apply(msgId: string, handle: () => void): Promise<void>;
  /** Tells the gateway everything up to `msgId` is stored. */
  acknowledge(msgId: string): void;
}

/**
 * The web's side of Kiln's output acknowledgement (see KILN_ACK). The gateway counts output delivered
 * only once the web says it is stored, and replays the rest to the next attach of the session, after
 * the last message stored. So every message is applied together with its msg_id as the document's
 * mark (a restarted process reads from the stored document how far it got), acknowledged once that
 * is stored, and a replayed message this process already applied but had not stored yet is dropped:
 * output is neither lost nor written twice.
 */
export class KernelMessageAcks {
  private stored: string | null;
  private storedSeq = 0;
  private seq = 0;
  /** Applied and not yet known to be stored, oldest first, with their place in the order applied. */
  private readonly unstored = new Map<string, number>();
  private ackDue = false;

  constructor(private readonly options: KernelMessageAcksOptions) {
    this.stored = options.lastStored;
  }

  /** The msg_id of the last message known to be stored: the gateway replays what it sent after it. */
  lastStored(): string | null {
    return this.stored;
  }

  receive(message: JupyterMessage, handle: () => void): void {
    const msgId = message.header.msg_id;
    if (typeof msgId !== 'string' || msgId === '') {
      handle();
      return;
    }
    // Replayed after a reconnect: it is already in the document, its store is under way (or failed
    // and is being repaired with the whole document).
    if (this.unstored.has(msgId)) return;
    const seq = ++this.seq;
    this.unstored.set(msgId, seq);
    this.options.apply(msgId, handle).then(
      () => this.storedUpTo(seq, msgId),
      // Not stored: it stays unacknowledged, and a later stored message covers it (a failed append
      // makes the next one store the whole document).
      () => undefined,
    );
  }

  private storedUpTo(seq: number, msgId: string): void {
    if (seq <= this.storedSeq) return;
    this.storedSeq = seq;
    this.stored = msgId;
    for (const [id, at] of this.unstored) {
      if (at > seq) break;
      this.unstored.delete(id);
    }
    // One acknowledgement per stored batch rather than one per message.
    if (this.ackDue) return;
    this.ackDue = true;
    setImmediate(() => {
      this.ackDue = false;
      if (this.stored) this.options.acknowledge(this.stored);
    });
  }
}

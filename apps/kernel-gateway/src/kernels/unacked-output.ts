import { messageSize } from '@kiln/kernel-protocol';
import type { JupyterMessage } from '../sandbox/types.ts';

/**
 * What the gateway sent one acknowledging session (Kiln's web process) that it has not yet said it
 * stored: the bytes may still sit in a killed process's socket buffer or memory, so they are replayed
 * to the session's next attach. Bounded: past `limitBytes` or `limitMessages` the oldest go first (a
 * client that far behind has most likely stored them; dropping the newest would lose what it cannot have).
 */
export class UnackedOutput {
  private entries: { message: JupyterMessage; size: number }[] = [];
  private bytes = 0;

  constructor(
    private readonly limitBytes: number,
    private readonly limitMessages = 10_000,
  ) {}

  get size(): number {
    return this.entries.length;
  }

  push(message: JupyterMessage): void {
    const size = messageSize(message);
    this.entries.push({ message, size });
    this.bytes += size;
    let drop = 0;
    while (
      drop < this.entries.length - 1 &&
      (this.bytes > this.limitBytes || this.entries.length - drop > this.limitMessages)
    ) {
      this.bytes -= (this.entries[drop] as { size: number }).size;
      drop += 1;
    }
    if (drop > 0) this.entries.splice(0, drop);
  }

  /**
   * The client stored everything up to and including `msgId`: that and what came before is forgotten.
   * False when `msgId` is not held (acknowledged before, never sent to this session, or dropped).
   */
  acknowledge(msgId: string): boolean {
    // Acknowledgements name a recent message: search from the newest.
    for (let i = this.entries.length - 1; i >= 0; i--) {
      if (this.entries[i]?.message.header.msg_id !== msgId) continue;
      for (const entry of this.entries.splice(0, i + 1)) this.bytes -= entry.size;
      return true;
    }
    return false;
  }

  /** Everything still unacknowledged, oldest first; the log is left empty. */
  take(): JupyterMessage[] {
    const out = this.entries.map((entry) => entry.message);
    this.entries = [];
    this.bytes = 0;
    return out;
  }
}

import { createMessage, messageSize, OUTPUT_TYPES } from '@kiln/kernel-protocol';
import type { JupyterMessage } from '../sandbox/types.ts';

/**
 * Holds what a kernel sends while its client is away, for replay when the same session reconnects.
 * Past `limitBytes` program output is dropped (status, replies and input requests are always kept)
 * and replay tells the user how much was lost, right where it was lost.
 */
export class OutputBuffer {
  private entries: JupyterMessage[] = [];
  private bytes = 0;
  private droppedBytes = 0;
  private droppedMessages = 0;
  private noteIndex = -1;
  private noteParent: Record<string, unknown> = {};

  constructor(private readonly limitBytes: number) {}

  get size(): number {
    return this.entries.length;
  }

  push(message: JupyterMessage): void {
    const size = messageSize(message);
    const isOutput = message.channel === 'iopub' && OUTPUT_TYPES.has(message.header.msg_type);
    // Control messages get headroom past the limit so a huge output can never swallow the final idle.
    const limit = isOutput ? this.limitBytes : this.limitBytes * 2;
    if (this.bytes + size > limit) {
      if (this.droppedMessages === 0) {
        this.noteIndex = this.entries.length;
        this.noteParent = message.parent_header;
      }
      this.droppedBytes += size;
      this.droppedMessages += 1;
      return;
    }
    this.entries.push(message);
    this.bytes += size;
  }

  /** Returns everything buffered, with a stderr note where output was dropped, and empties the buffer. */
  drain(): JupyterMessage[] {
    const out = this.entries;
    if (this.droppedMessages > 0) {
      const mib = (this.limitBytes / (1024 * 1024)).toFixed(0);
      const note = createMessage(
        'iopub',
        'stream',
        {
          name: 'stderr',
          text: `\n[kiln] ${this.droppedMessages} output messages (${this.droppedBytes} bytes) were dropped while no client was connected: the replay buffer holds ${mib} MiB per kernel.\n`,
        },
        this.noteParent,
      );
      out.splice(this.noteIndex, 0, note);
    }
    this.clear();
    return out;
  }

  clear(): void {
    this.entries = [];
    this.bytes = 0;
    this.droppedBytes = 0;
    this.droppedMessages = 0;
    this.noteIndex = -1;
    this.noteParent = {};
  }
}

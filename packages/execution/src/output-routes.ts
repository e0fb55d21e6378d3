import type { JupyterMessage } from '@kiln/kernel-protocol/client';
import type { OutputWriter } from '@kiln/notebook';
import { redactMessage, StreamRedaction } from './redaction.ts';
import type { Redact } from './types.ts';

/**
 * Where a kernel's iopub output goes: the writer of the cell whose execute_request is its parent
 * (kept after the cell ends, for output from threads, up to `maxRoutes`), masked on the way with the
 * kernel's current secrets. Stream text that may begin a secret value is held back until the rest
 * arrives (see StreamRedaction).
 */
export class OutputRoutes {
  private readonly routes = new Map<string, { cellId: string; writer: OutputWriter }>();
  private streams: { redact: Redact; streams: StreamRedaction } | null = null;

  constructor(
    private readonly maxRoutes: number,
    /** The masking of the kernel the output comes from (it changes with the kernel's secrets). */
    private readonly redact: () => Redact | undefined,
  ) {}

  /** Output whose parent is `msgId` goes to `writer` (the oldest routes are forgotten past the bound). */
  add(msgId: string, cellId: string, writer: OutputWriter): void {
    this.routes.set(msgId, { cellId, writer });
    while (this.routes.size > this.maxRoutes) this.routes.delete(this.routes.keys().next().value as string);
  }

  /** A cell starts again: output of its earlier runs no longer lands in it. */
  forgetCell(cellId: string): void {
    for (const [id, route] of this.routes) if (route.cellId === cellId) this.routes.delete(id);
  }

  clear(): void {
    this.routes.clear();
  }

  /** Masks secrets in an iopub message (joining stream pieces) and writes it to its cell. */
  deliver(parent: string, message: JupyterMessage): void {
    const streams = this.streamRedaction();
    const { content } = message;
    if (streams && message.header.msg_type === 'stream' && typeof content.text === 'string') {
      const text = streams.stream(parent, String(content.name), content.text);
      if (text) this.routes.get(parent)?.writer.handle({ ...message, content: { ...content, text } });
      return;
    }
    streams?.flush(parent);
    this.routes.get(parent)?.writer.handle(redactMessage(message, this.redact()));
  }

  /** Writes what `parent`'s stream kept back; called before any other message of that cell is applied. */
  flush(parent: string): void {
    this.streamRedaction()?.flush(parent);
  }

  flushAll(): void {
    this.streams?.streams.flushAll();
  }

  private streamRedaction(): StreamRedaction | null {
    const redact = this.redact();
    if (!redact?.heldBack) return null;
    if (this.streams?.redact !== redact) {
      this.streams?.streams.flushAll();
      const streams = new StreamRedaction(redact, (parent, name, text) =>
        this.routes.get(parent)?.writer.handle({ header: { msg_type: 'stream' }, content: { name, text } }),
      );
      this.streams = { redact, streams };
    }
    return this.streams.streams;
  }
}

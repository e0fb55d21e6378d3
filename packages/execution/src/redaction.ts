import type { JupyterMessage } from '@kiln/kernel-protocol/client';
import type { Redact } from './types.ts';

function redactTexts(value: unknown, redact: (text: string) => string): unknown {
  if (typeof value === 'string') return redact(value);
  if (Array.isArray(value)) return value.map((item) => redactTexts(item, redact));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, redactTexts(item, redact)]));
  }
  return value;
}

/** `message` with `redact` (secret masking) applied to every text in its content; as it is without one. */
export function redactMessage(message: JupyterMessage, redact?: (text: string) => string): JupyterMessage {
  if (!redact) return message;
  return { ...message, content: redactTexts(message.content, redact) as JupyterMessage['content'] };
}

interface Held {
  name: string;
  text: string;
  timer: ReturnType<typeof setTimeout>;
}

/**
 * Masks a kernel's stream output across messages: a value printed in two pieces (the kernel flushes
 * its buffer wherever it likes) is joined before masking. The end of a piece that could start a
 * value waits for the next stream piece of the same cell, for any other message of that cell, or
 * for `flushMs`, whichever comes first; then it is written as it is.
 */
export class StreamRedaction {
  private readonly held = new Map<string, Held>();

  constructor(
    private readonly redact: Redact,
    private readonly emit: (parent: string, name: string, text: string) => void,
    private readonly flushMs = 250,
  ) {}

  /** The text of a stream piece to write now (masked), keeping back what may begin a value. */
  stream(parent: string, name: string, text: string): string {
    const before = this.held.get(parent);
    let joined = text;
    if (before) {
      clearTimeout(before.timer);
      this.held.delete(parent);
      if (before.name === name) joined = before.text + text;
      else this.emit(parent, before.name, before.text);
    }
    const masked = this.redact(joined);
    const keep = this.redact.heldBack?.(masked) ?? 0;
    if (keep > 0) {
      const timer = setTimeout(() => this.flush(parent), this.flushMs);
      timer.unref?.();
      this.held.set(parent, { name, text: masked.slice(masked.length - keep), timer });
    }
    return masked.slice(0, masked.length - keep);
  }

  /** Writes what a cell's stream kept back; called before any other message of that cell is applied. */
  flush(parent: string): void {
    const before = this.held.get(parent);
    if (!before) return;
    clearTimeout(before.timer);
    this.held.delete(parent);
    this.emit(parent, before.name, before.text);
  }

  flushAll(): void {
    for (const parent of [...this.held.keys()]) this.flush(parent);
  }
}

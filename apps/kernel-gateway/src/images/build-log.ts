/**
 * A build's output, bounded: the first `maxBytes` are kept whole (readers poll them by offset), and
 * past that only the last `tailBytes`, shown after a line saying how much was left out.
 */
export class BuildLog {
  private readonly head: string[] = [];
  private headBytes = 0;
  private tail = '';
  private dropped = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly tailBytes = 16 * 1024,
  ) {}

  append(text: string): void {
    if (this.headBytes < this.maxBytes) {
      const room = this.maxBytes - this.headBytes;
      const kept = text.length <= room ? text : text.slice(0, room);
      this.head.push(kept);
      this.headBytes += kept.length;
      text = text.slice(kept.length);
      if (!text) return;
    }
    this.tail += text;
    if (this.tail.length > this.tailBytes) {
      this.dropped += this.tail.length - this.tailBytes;
      this.tail = this.tail.slice(-this.tailBytes);
    }
  }

  /** The log from `offset` (characters of the kept head), and the offset to ask from next time. */
  read(offset: number, final: boolean): { text: string; next: number } {
    const head = this.head.join('');
    let text = head.slice(Math.max(0, Math.min(offset, head.length)));
    // The tail is only shown once the build is over: until then it still moves.
    if (final && this.tail) {
      text += this.dropped > 0 ? `\n[... ${this.dropped} characters of build output left out ...]\n` : '';
      text += this.tail;
    }
    return { text, next: head.length };
  }

  /** The lines most likely to say why a build failed: apt's `E:` and pip's `ERROR:`, else the last lines. */
  errorSummary(): string {
    const lines = `${this.head.join('')}${this.tail}`.split('\n').filter((line) => line.trim());
    const errors = lines.filter((line) => /^(E: |ERROR: |error: )/.test(line));
    return (errors.length > 0 ? errors.slice(-5) : lines.slice(-5)).join('\n').slice(0, 2000);
  }
}

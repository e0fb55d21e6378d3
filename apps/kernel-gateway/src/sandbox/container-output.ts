import { execFile } from 'node:child_process';
import { closeSync, constants, existsSync, openSync } from 'node:fs';
import { appendFile, stat, truncate } from 'node:fs/promises';
import { Socket } from 'node:net';
import { promisify } from 'node:util';
import { createMasker, type Masker } from '@kiln/secrets/masking';

/** How long the end of the output that could begin a secret value waits for the rest of it. */
const HOLD_MS = 250;

/**
 * The sandbox's own stdout and stderr on the host: runsc's, tini's, the agent's diagnostics, and
 * whatever a process in the sandbox writes to PID 1's fds on purpose (the kernel's fds 1 and 2 go to
 * the notebook, see agent/kiln_output.py). They come through a FIFO the gateway reads, masks with the
 * kernel's env values (secrets; split and encoded forms too) and appends to container.log, kept under
 * `maxBytes`: no secret value reaches the disk in clear. The sandbox holds the FIFO read-write, so
 * while no gateway reads (one restarting) its writes never fail; they wait once the pipe is full, and
 * the next gateway reads on from the same path.
 */
export class ContainerOutput {
  private socket: Socket | undefined;
  private masker: Masker = createMasker([]);
  private held = '';
  private holdTimer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  private size: number | undefined;
  private readonly decoder = new TextDecoder('utf-8');

  constructor(
    readonly fifoPath: string,
    readonly logPath: string,
    readonly maxBytes: number,
  ) {}

  /** The fd runsc hands the container as stdout and stderr; the caller closes its copy once runsc has started. */
  async openForSandbox(): Promise<number> {
    // The log exists (for its readers) from the start, readable by root only.
    closeSync(openSync(this.logPath, 'a', 0o600));
    // Not execFileSync: on a loaded host the spawn blocked the gateway's event loop, and with it every
    // other kernel's messages, for tens of milliseconds per sandbox start.
    if (!existsSync(this.fifoPath))
      await promisify(execFile)('mkfifo', ['-m', '600', this.fifoPath]).catch((error: unknown) => {
        // Made meanwhile by another start of the same container: that FIFO is as good.
        if (!existsSync(this.fifoPath)) throw error;
      });
    // Opened before reading starts: a reader that finds no writer at all sees the end of the output.
    const fd = openSync(this.fifoPath, constants.O_RDWR);
    this.read();
    return fd;
  }

  /** Starts reading the FIFO (again, in a gateway that re-adopts the sandbox); false when there is none. */
  read(): boolean {
    if (this.socket) return true;
    if (!existsSync(this.fifoPath)) return false;
    const fd = openSync(this.fifoPath, constants.O_RDONLY | constants.O_NONBLOCK);
    const socket = new Socket({ fd, readable: true, writable: false });
    socket.on('data', (chunk: Buffer) => {
      // One chunk on its way to the disk at a time: a flood waits in the pipe, not in this process.
      socket.pause();
      this.receive(this.decoder.decode(chunk, { stream: true }));
      this.writing = this.writing.finally(() => socket.resume());
    });
    socket.on('error', () => undefined);
    // Every writer gone (the sandbox stopped, or was checkpointed): the next start reads anew.
    socket.once('close', () => {
      if (this.socket === socket) this.socket = undefined;
    });
    // Sandboxes outlive the gateway process (the next one re-adopts them): never hold its exit up.
    socket.unref();
    this.socket = socket;
    return true;
  }

  /** Masks these values (the kernel's env) in everything written from now on. */
  learn(env: Record<string, string>): void {
    this.masker = createMasker(Object.values(env));
  }

  /** Resolves once what the sandbox wrote so far is on disk (masked), e.g. before reading a crash's last lines. */
  async settled(): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, 100));
    this.release();
    await this.writing;
  }

  close(): void {
    this.release();
    this.socket?.destroy();
    this.socket = undefined;
  }

  private receive(text: string): void {
    clearTimeout(this.holdTimer);
    const masked = this.masker(this.held + text);
    const keep = this.masker.heldBack(masked);
    this.held = masked.slice(masked.length - keep);
    this.append(masked.slice(0, masked.length - keep));
    if (this.held) {
      this.holdTimer = setTimeout(() => this.release(), HOLD_MS);
      this.holdTimer.unref();
    }
  }

  private release(): void {
    clearTimeout(this.holdTimer);
    const held = this.held;
    this.held = '';
    this.append(held);
  }

  private append(text: string): void {
    if (!text) return;
    const bytes = Buffer.byteLength(text);
    this.writing = this.writing
      .then(async () => {
        this.size ??= await stat(this.logPath).then(
          (info) => info.size,
          () => 0,
        );
        if (this.size + bytes > this.maxBytes) {
          // The log only needs its end (a crash's last lines): start it over rather than fill the disk.
          const note = `[kiln] container output past ${this.maxBytes} bytes dropped\n`;
          await truncate(this.logPath, 0).catch(() => undefined);
          await appendFile(this.logPath, note, { mode: 0o600 });
          this.size = note.length;
        }
        await appendFile(this.logPath, text, { mode: 0o600 });
        this.size += bytes;
      })
      .catch(() => undefined);
  }
}

import { randomUUID } from 'node:crypto';
import type { JupyterMessage } from '@kiln/kernel-protocol/client';
import type { ExecutionGateway, KernelConnection, KernelQueueView, StartKernelOptions } from '../types.ts';

/**
 * A scripted kernel for queue-ordering unit tests only (behaviour tests use real runsc kernels).
 * Code `fail` ends with an error reply; code starting with `hold` waits for `release()`; any other
 * code prints itself, except `parts:a|b|c`, which prints a, b and c as separate stream messages.
 */
export class FakeGateway implements ExecutionGateway {
  readonly executed: string[] = [];
  started = 0;
  /** When set, starting a kernel fails with this message (as a quota refusal would). */
  refuseStart: string | null = null;
  private count = 0;
  private held: (() => void)[] = [];
  private listeners = new Set<(message: JupyterMessage) => void>();

  readonly startBodies: unknown[] = [];
  shutdowns = 0;

  /** When set, a start first waits in this place of the queue until aborted (as the scheduler's would). */
  queueAs: KernelQueueView | null = null;

  async startKernel(body: unknown, options: StartKernelOptions = {}) {
    if (this.queueAs) {
      options.onQueued?.(this.queueAs);
      await new Promise<void>((resolve) => options.signal?.addEventListener('abort', () => resolve()));
      throw new Error('Cancelled while waiting for a machine');
    }
    if (this.refuseStart) throw new Error(this.refuseStart);
    this.startBodies.push(body);
    this.started++;
    return { id: `fake-${this.started}` } as Awaited<ReturnType<ExecutionGateway['startKernel']>>;
  }
  async interruptKernel() {}
  async restartKernel() {
    return { id: 'fake' } as Awaited<ReturnType<ExecutionGateway['restartKernel']>>;
  }
  async shutdownKernel() {
    this.shutdowns++;
  }

  connects = 0;
  /** The kernel id of every connection, in order. */
  readonly connected: string[] = [];
  /** Breaks the current websocket as a network failure would. */
  dropConnection: () => void = () => {};
  /** Kernels the gateway no longer has: connecting to one is refused with 404, as the gateway does. */
  readonly gone = new Set<string>();
  /** Kernels a restarted gateway stopped, with the reason it gives (410 KERNEL_GONE). */
  readonly stopped = new Map<string, string>();
  /** What the kernel sent while no client listened, replayed to the next one (the gateway's session buffer). */
  private buffered: JupyterMessage[] = [];

  /** While set, a connect waits for it first (as a gateway that is restarting and not answering yet). */
  connectGate: Promise<void> | null = null;

  /** While set, a connect fails as an unreachable gateway's does (its machine is down). */
  unreachable = false;

  async connect(kernelId: string): Promise<KernelConnection> {
    if (this.connectGate) await this.connectGate;
    if (this.unreachable) throw new TypeError('fetch failed');
    if (this.gone.has(kernelId)) throw Object.assign(new Error('Kernel does not exist'), { status: 404 });
    const stopped = this.stopped.get(kernelId);
    if (stopped) {
      // As a refused websocket from a gateway that restarted and could not take the kernel back.
      const body = JSON.stringify({ message: stopped, reason: 'Gone', code: 'KERNEL_GONE' });
      throw Object.assign(new Error(`Websocket refused with HTTP 410: ${body}`), { status: 410, body });
    }
    this.connects++;
    this.connected.push(kernelId);
    let close: (value: { code: number; reason: string }) => void = () => {};
    const closed = new Promise<{ code: number; reason: string }>((resolve) => {
      close = resolve;
    });
    this.dropConnection = () => close({ code: 1006, reason: '' });
    return {
      onMessage: (listener) => {
        this.listeners.add(listener);
        const replay = this.buffered.splice(0);
        setImmediate(() => {
          for (const msg of replay) listener(msg);
        });
        return () => this.listeners.delete(listener);
      },
      message: (channel, msgType, content) => message(channel, msgType, content, {}),
      send: (request) => setImmediate(() => this.handle(request)),
      close: async () => close({ code: 1000, reason: '' }),
      closed,
    };
  }

  /** As the gateway tells a client that the hibernated kernel waits in the queue for room to wake. */
  queueWake(queue: { position: number; ahead: number; reason: string; deadline: number }): void {
    this.emit(message('iopub', 'status', { execution_state: 'starting', kiln_queue: queue }, {}));
  }

  /** As the gateway tells a client that the kernel woke (its next status). */
  woke(): void {
    this.emit(message('iopub', 'status', { execution_state: 'idle' }, {}));
  }

  readonly cancelledQueued: string[] = [];
  async cancelQueued(kernelId: string): Promise<void> {
    this.cancelledQueued.push(kernelId);
    // The gateway's wait ends and the kernel is reported dead with why.
    const evalue =
      'Could not wake from hibernation: It waited for room on this machine and did not get it: Cancelled while waiting for a machine';
    setImmediate(() => {
      this.emit(message('iopub', 'error', { ename: 'KernelDied', evalue, traceback: [] }, {}));
      this.emit(message('iopub', 'status', { execution_state: 'dead' }, {}));
    });
  }

  /** Lets every held cell finish. */
  release(): void {
    for (const go of this.held.splice(0)) go();
  }

  get holding(): number {
    return this.held.length;
  }

  /** Forgets what was kept for a reconnect, as a gateway whose buffer was cleared would. */
  loseBuffered(): void {
    this.buffered = [];
  }

  private handle(request: JupyterMessage): void {
    if (request.header.msg_type === 'kernel_info_request') {
      // Behind whatever cell is still held: the shell is serial.
      const reply = () => {
        this.emit(message('shell', 'kernel_info_reply', { status: 'ok' }, request.header));
        this.emit(message('iopub', 'status', { execution_state: 'idle' }, request.header));
      };
      if (this.held.length > 0) this.held.push(reply);
      else setImmediate(reply);
      return;
    }
    if (request.header.msg_type !== 'execute_request') return;
    const code = String(request.content.code);
    const parent = request.header;
    this.executed.push(code);
    const count = ++this.count;
    this.emit(message('iopub', 'status', { execution_state: 'busy' }, parent));
    this.emit(message('iopub', 'execute_input', { code, execution_count: count }, parent));
    const finish = () => {
      if (code === 'fail') {
        this.emit(message('iopub', 'error', { ename: 'ValueError', evalue: 'boom', traceback: [] }, parent));
        this.emit(message('shell', 'execute_reply', { status: 'error', execution_count: count }, parent));
      } else if (code.startsWith('parts:')) {
        for (const part of code.slice('parts:'.length).split('|'))
          this.emit(message('iopub', 'stream', { name: 'stdout', text: part }, parent));
        this.emit(message('shell', 'execute_reply', { status: 'ok', execution_count: count }, parent));
      } else {
        this.emit(message('iopub', 'stream', { name: 'stdout', text: `${code}\n` }, parent));
        this.emit(message('shell', 'execute_reply', { status: 'ok', execution_count: count }, parent));
      }
      this.emit(message('iopub', 'status', { execution_state: 'idle' }, parent));
    };
    if (code.startsWith('hold')) this.held.push(finish);
    else setImmediate(finish);
  }

  private emit(msg: JupyterMessage): void {
    if (this.listeners.size === 0) this.buffered.push(msg);
    for (const listener of this.listeners) listener(msg);
  }
}

function message(
  channel: JupyterMessage['channel'],
  msgType: string,
  content: Record<string, unknown>,
  parent: Record<string, unknown>,
): JupyterMessage {
  return {
    channel,
    header: {
      msg_id: randomUUID(),
      msg_type: msgType,
      session: 'fake',
      username: 'kiln',
      date: new Date().toISOString(),
      version: '5.3',
    },
    parent_header: parent,
    metadata: {},
    content,
    buffers: [],
  };
}

import { randomUUID } from 'node:crypto';
import type {
  ExitReason,
  JupyterMessage,
  KernelSandbox,
  KernelSandboxOptions,
  SandboxDriver,
  TerminalPty,
} from '../src/sandbox/types.ts';

const KERNEL_INFO = {
  status: 'ok',
  protocol_version: '5.3',
  implementation: 'fake',
  implementation_version: '0',
  language_info: { name: 'python', version: '3.11', mimetype: 'text/x-python', file_extension: '.py' },
  banner: 'fake kernel',
  help_links: [],
};

/**
 * A scripted stand-in for a sandboxed ipykernel, for unit tests of the HTTP/websocket layer only
 * (the *.int.test.ts files use real runsc kernels). Code it understands:
 * An execute_request with `metadata.kiln_quiet` gets no status and no execute_input, as from Kiln's agent.
 * `print:<text>`, `burst:<n>` (n stream messages of 1 KiB), `later-burst:<n>` (the same after 200 ms), `loop` (runs until interrupted), `die`, `input`, else an execute_result.
 */
export class FakeSandbox implements KernelSandbox {
  readonly id = randomUUID();
  readonly startedFrom = 'pool' as const;
  readonly sent: JupyterMessage[] = [];
  interrupts = 0;
  restarts = 0;
  shutdowns = 0;
  private count = 0;
  private looping: JupyterMessage | null = null;
  private waitingInput: JupyterMessage | null = null;
  private readonly messageListeners = new Set<(message: JupyterMessage) => void>();
  private readonly exitListeners = new Set<(reason: ExitReason) => void>();

  constructor(readonly options: KernelSandboxOptions) {}

  send(message: JupyterMessage): void {
    this.sent.push(message);
    setImmediate(() => this.handle(message));
  }

  onMessage(listener: (message: JupyterMessage) => void) {
    this.messageListeners.add(listener);
    return () => this.messageListeners.delete(listener);
  }

  onExit(listener: (reason: ExitReason) => void) {
    this.exitListeners.add(listener);
    return () => this.exitListeners.delete(listener);
  }

  async interrupt() {
    this.interrupts += 1;
    const request = this.looping ?? this.waitingInput;
    this.looping = null;
    this.waitingInput = null;
    if (request) {
      this.emit(
        'iopub',
        'error',
        { ename: 'KeyboardInterrupt', evalue: '', traceback: ['KeyboardInterrupt'] },
        request,
      );
      this.emit(
        'shell',
        'execute_reply',
        { status: 'error', ename: 'KeyboardInterrupt', execution_count: this.count },
        request,
      );
      this.emit('iopub', 'status', { execution_state: 'idle' }, request);
    }
  }

  async restart() {
    this.restarts += 1;
    this.count = 0;
  }

  async hibernate() {}
  async resume() {}

  openTerminal(options: { cols: number; rows: number }): TerminalPty {
    const data = new Set<(data: string) => void>();
    const exit = new Set<(code: number) => void>();
    let size = `${options.cols}x${options.rows}`;
    return {
      write: (text) => {
        const reply = text.trim() === 'size' ? size : `echo:${text}`;
        setImmediate(() => {
          for (const listener of data) listener(reply);
        });
      },
      resize: (cols, rows) => {
        size = `${cols}x${rows}`;
      },
      onData: (listener) => {
        data.add(listener);
        return () => data.delete(listener);
      },
      onExit: (listener) => {
        exit.add(listener);
        return () => exit.delete(listener);
      },
      kill: () => {
        for (const listener of exit) listener(0);
      },
    };
  }

  async shutdown() {
    this.shutdowns += 1;
  }

  /** Simulates the sandbox dying (OOM, crash) as the runsc driver reports it. */
  exit(reason: ExitReason) {
    for (const listener of this.exitListeners) listener(reason);
  }

  private handle(request: JupyterMessage) {
    const type = request.header.msg_type;
    if (type === 'input_reply' && this.waitingInput) {
      const parent = this.waitingInput;
      this.waitingInput = null;
      this.emit('iopub', 'stream', { name: 'stdout', text: `got ${request.content.value}` }, parent);
      this.finish(parent);
      return;
    }
    if (type === 'comm_msg') {
      this.emit('iopub', 'comm_msg', request.content, request, request.buffers);
      return;
    }
    this.emit('iopub', 'status', { execution_state: 'busy' }, request);
    if (type === 'kernel_info_request') {
      this.emit(request.channel, 'kernel_info_reply', KERNEL_INFO, request);
      this.emit('iopub', 'status', { execution_state: 'idle' }, request);
      return;
    }
    if (type !== 'execute_request') {
      this.emit(request.channel, type.replace('_request', '_reply'), { status: 'ok' }, request);
      this.emit('iopub', 'status', { execution_state: 'idle' }, request);
      return;
    }
    this.count += 1;
    const code = String(request.content.code);
    this.emit('iopub', 'execute_input', { code, execution_count: this.count }, request);
    if (code === 'loop') {
      this.looping = request;
      return;
    }
    if (code === 'input') {
      this.waitingInput = request;
      this.emit('stdin', 'input_request', { prompt: 'name? ', password: false }, request);
      return;
    }
    if (code === 'die') {
      this.exit({ kind: 'oom', message: 'ran out of memory: limit 2048 MiB', code: 137 });
      return;
    }
    if (code.startsWith('later-burst:')) {
      setTimeout(() => {
        for (let i = 0; i < Number(code.slice(12)); i++) {
          this.emit(
            'iopub',
            'stream',
            { name: 'stdout', text: `${String(i).padStart(8, '0')}${'x'.repeat(1016)}` },
            request,
          );
        }
        this.finish(request);
      }, 200);
      return;
    }
    if (code.startsWith('print:'))
      this.emit('iopub', 'stream', { name: 'stdout', text: code.slice(6) }, request);
    else if (code.startsWith('burst:')) {
      for (let i = 0; i < Number(code.slice(6)); i++) {
        this.emit(
          'iopub',
          'stream',
          { name: 'stdout', text: `${String(i).padStart(8, '0')}${'x'.repeat(1016)}` },
          request,
        );
      }
    } else {
      this.emit(
        'iopub',
        'execute_result',
        { data: { 'text/plain': code }, metadata: {}, execution_count: this.count },
        request,
      );
    }
    this.finish(request);
  }

  private finish(request: JupyterMessage) {
    this.emit('shell', 'execute_reply', { status: 'ok', execution_count: this.count }, request);
    this.emit('iopub', 'status', { execution_state: 'idle' }, request);
  }

  private emit(
    channel: JupyterMessage['channel'],
    msgType: string,
    content: Record<string, unknown>,
    parent: JupyterMessage,
    buffers: Uint8Array[] = [],
  ) {
    // As Kiln's agent: a quiet execute_request (an endpoint call) gets no busy/idle and no echo.
    const quiet = parent.header.msg_type === 'execute_request' && parent.metadata?.kiln_quiet === true;
    if (quiet && (msgType === 'status' || msgType === 'execute_input')) return;
    const message: JupyterMessage = {
      channel,
      header: {
        msg_id: randomUUID(),
        msg_type: msgType,
        session: 'fake-kernel',
        username: 'kernel',
        date: new Date().toISOString(),
        version: '5.3',
      },
      parent_header: parent.header,
      metadata: {},
      content,
      buffers,
    };
    for (const listener of this.messageListeners) listener(message);
  }
}

/** A driver handing out FakeSandboxes; `sandboxes` lets tests reach into them. */
export class FakeDriver implements SandboxDriver {
  readonly sandboxes: FakeSandbox[] = [];
  failNext: Error | null = null;

  async start(options: KernelSandboxOptions): Promise<KernelSandbox> {
    if (this.failNext) {
      const error = this.failNext;
      this.failNext = null;
      throw error;
    }
    const sandbox = new FakeSandbox(options);
    this.sandboxes.push(sandbox);
    return sandbox;
  }

  capabilities() {
    return { gpu: false, gpuReason: 'fake driver', checkpoint: false, runscVersion: 'none' };
  }

  async close() {}
}

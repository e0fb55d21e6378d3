import type { JupyterMessage } from '@kiln/kernel-protocol/client';
import type { IopubMessage, OutputWriter } from '@kiln/notebook';
import type { ExecutionStateView, QueuedCellView } from './types.ts';

/** How a cell's execution ended: `error` (error or aborted reply, or a dead kernel) stops its request. */
export type Outcome = 'ok' | 'error' | 'cancelled';

/** The content of the execute_request for a cell's source (stdin allowed: `input()` is answered through the doc). */
export function executeRequestContent(code: string): Record<string, unknown> {
  return {
    code,
    silent: false,
    store_history: true,
    user_expressions: {},
    allow_stdin: true,
    stop_on_error: true,
  };
}

/** An error output the service adds itself (the kernel died, or never started). */
export function errorOutput(ename: string, evalue: string): IopubMessage {
  return { header: { msg_type: 'error' }, content: { ename, evalue, traceback: [`${ename}: ${evalue}`] } };
}

/** One cell executing: the request sent for it, the writer of its outputs, and when it is over. */
export class CellRun {
  /** The kernel's pending `input()` request, if any. */
  input: { request: JupyterMessage; prompt: string; password: boolean; requestedAt: number } | null = null;
  private reply: JupyterMessage | null = null;
  private idle = false;

  constructor(
    readonly entry: QueuedCellView,
    readonly msgId: string,
    readonly writer: OutputWriter,
    readonly startedAt: number,
    private readonly clock: () => number,
  ) {}

  /**
   * Takes a shell, stdin or iopub status message answering this run (iopub outputs go to the
   * writer through the session's routes). Returns `input` when the kernel asked for input, the
   * outcome once both the reply and `idle` have arrived, else null.
   */
  take(message: JupyterMessage): Outcome | 'input' | null {
    const type = message.header.msg_type;
    if (message.channel === 'iopub' && type === 'status' && message.content.execution_state === 'idle') {
      this.idle = true;
    } else if (message.channel === 'shell' && type === 'execute_reply') {
      this.reply = message;
      if (message.content.ename === 'DeadKernel') {
        // The gateway answered for a kernel that is gone; no status will follow.
        this.writer.handle(
          errorOutput('KernelDied', String(message.content.evalue ?? 'The kernel is not running')),
        );
        return 'error';
      }
    } else if (message.channel === 'stdin' && type === 'input_request') {
      this.input = {
        request: message,
        prompt: String(message.content.prompt ?? ''),
        password: message.content.password === true,
        requestedAt: this.clock(),
      };
      return 'input';
    }
    if (!this.reply || !this.idle) return null;
    return this.reply.content.status === 'ok' ? 'ok' : 'error';
  }

  /** The outcome if the reply came (its idle status may still be on the way), else null. */
  get replied(): Outcome | null {
    if (!this.reply) return null;
    return this.reply.content.status === 'ok' ? 'ok' : 'error';
  }

  /** The count from the reply, if one came. */
  get executionCount(): number | undefined {
    const count = this.reply?.content.execution_count;
    return typeof count === 'number' ? count : undefined;
  }

  /** Writes the answered prompt line into stdout, as a terminal (and JupyterLab's input box) shows it. */
  echoInput(prompt: string, value: string | null): void {
    this.writer.handle({
      header: { msg_type: 'stream' },
      content: { name: 'stdout', text: `${prompt}${value ?? ''}\n` },
    });
  }

  runningView(): ExecutionStateView['running'] {
    const { cellId, requestId, by, queuedAt } = this.entry;
    return { cellId, requestId, by, queuedAt, startedAt: this.startedAt };
  }

  inputView(): ExecutionStateView['input'] {
    if (!this.input) return null;
    const { prompt, password, requestedAt } = this.input;
    return { cellId: this.entry.cellId, prompt, password, requestedAt };
  }
}

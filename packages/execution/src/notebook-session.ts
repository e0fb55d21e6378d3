import type { DirectConnection } from '@kiln/collab';
import { DomainError } from '@kiln/core';
import type { JupyterMessage } from '@kiln/kernel-gateway/client';
import { findCell, type OutputLimits, OutputWriter, type TruncationInfo } from '@kiln/notebook';
import * as Y from 'yjs';
import { resetExecutionState, writeExecutionState } from './execution-state.ts';
import { errorText, KernelLink, type KernelStart } from './kernel-link.ts';
import type { OverflowStore } from './overflow-store.ts';
import type { ExecutionGateway, ExecutionStateView, QueuedCellView, Requester } from './types.ts';

export interface SessionOptions {
  notebookId: string;
  workspaceId: string;
  connection: DirectConnection;
  gateway: ExecutionGateway;
  kernelName?: string;
  outputLimits: Partial<OutputLimits>;
  maxQueuedCells: number;
  maxRoutes: number;
  overflow: OverflowStore;
  truncationNote(info: TruncationInfo): string;
  clock: () => number;
  onError(error: unknown, stage: string): void;
}

interface Running extends QueuedCellView {
  startedAt: number;
  msgId: string;
  writer: OutputWriter;
  reply: JupyterMessage | null;
  idle: boolean;
  finish(outcome: Outcome): void;
}

interface PendingInput {
  cellId: string;
  prompt: string;
  password: boolean;
  requestedAt: number;
  request: JupyterMessage;
}

type Outcome = 'ok' | 'error' | 'cancelled';

// Origin of the service's own edits, so hooks can tell them from people's.
const ORIGIN = 'kiln-execution';

/** One notebook's queue and kernel, writing everything collaborators see into its document. */
export class NotebookSession {
  readonly notebookId: string;
  readonly workspaceId: string;
  private readonly doc: Y.Doc;
  private readonly link: KernelLink;
  private queue: QueuedCellView[] = [];
  private running: Running | null = null;
  private input: PendingInput | null = null;
  private pumping = false;
  private idleWaiters: (() => void)[] = [];
  private kernelStart: KernelStart = {};
  /** Where iopub output goes, by execute_request msg_id; kept after a cell ends for output from threads. */
  private readonly routes = new Map<string, { cellId: string; writer: OutputWriter }>();
  private closed = false;
  private lastWrite: Promise<void> = Promise.resolve();

  constructor(private readonly options: SessionOptions) {
    this.notebookId = options.notebookId;
    this.workspaceId = options.workspaceId;
    this.doc = options.connection.document;
    this.link = new KernelLink(
      options.gateway,
      {
        onMessage: (message) => this.fromKernel(message),
        onStatus: () => void this.write(() => {}),
        onLost: (reason) => this.kernelLost(reason),
      },
      options.kernelName,
    );
    void this.write((doc) => resetExecutionState(doc));
  }

  /** Queues code cells; cells already waiting are not queued twice. */
  enqueue(cellIds: string[], requestId: string, by: Requester, start: KernelStart): string[] {
    const waiting = new Set(this.queue.map((entry) => entry.cellId));
    const fresh = [...new Set(cellIds)].filter((id) => !waiting.has(id));
    if (this.queue.length + fresh.length > this.options.maxQueuedCells) {
      throw new DomainError(
        'RATE_LIMITED',
        `At most ${this.options.maxQueuedCells} cells can wait to run in one notebook`,
      );
    }
    if (fresh.length === 0) return [];
    if (!this.link.kernelId) this.kernelStart = start;
    const queuedAt = this.options.clock();
    void this.write((doc) => {
      for (const cellId of fresh) {
        this.queue.push({ cellId, requestId, by, queuedAt });
        findCell(doc, cellId)?.set('execution_state', 'queued');
      }
    });
    if (!this.pumping) void this.pump();
    return fresh;
  }

  get document(): Y.Doc {
    return this.doc;
  }

  /** Resolves once every change written so far is stored and broadcast. */
  flushed(): Promise<void> {
    return this.lastWrite;
  }

  whenIdle(): Promise<void> {
    if (!this.pumping) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** The running cell ends with KeyboardInterrupt; cells waiting behind it do not run. */
  async interrupt(): Promise<void> {
    this.cancelQueued(() => true);
    await this.link.interrupt();
  }

  async restart(): Promise<void> {
    this.cancelQueued(() => true);
    this.endRunning();
    this.routes.clear();
    await this.link.restart();
  }

  async shutdown(): Promise<void> {
    this.cancelQueued(() => true);
    this.endRunning();
    this.routes.clear();
    await this.link.shutdown();
  }

  answerInput(value: string): void {
    const input = this.input;
    const running = this.running;
    if (!input || !running || running.cellId !== input.cellId) {
      throw new DomainError('CONFLICT', 'No cell of this notebook is waiting for input');
    }
    const reply = this.link.message('stdin', 'input_reply', { value });
    reply.parent_header = { ...input.request.header };
    this.input = null;
    void this.write(() => {
      // What a terminal would show; JupyterLab shows the same line in place of the input box.
      running.writer.handle({
        header: { msg_type: 'stream' },
        content: { name: 'stdout', text: `${input.prompt}${input.password ? '' : value}\n` },
      });
    });
    this.link.send(reply);
  }

  view(): ExecutionStateView {
    const running = this.running;
    return {
      kernel: { status: this.link.status, reason: this.link.reason, kernelId: this.link.kernelId },
      running: running
        ? {
            cellId: running.cellId,
            requestId: running.requestId,
            by: running.by,
            queuedAt: running.queuedAt,
            startedAt: running.startedAt,
          }
        : null,
      queue: this.queue.map((entry) => ({ ...entry })),
      input: this.input
        ? {
            cellId: this.input.cellId,
            prompt: this.input.prompt,
            password: this.input.password,
            requestedAt: this.input.requestedAt,
          }
        : null,
      updatedAt: this.options.clock(),
    };
  }

  /** Shuts the kernel down and releases the document. */
  async close(): Promise<void> {
    if (this.closed) return;
    try {
      await this.shutdown();
    } finally {
      await this.write(() => {});
      this.closed = true;
      for (const resolve of this.idleWaiters.splice(0)) resolve();
      await this.options.connection.disconnect();
    }
  }

  private async pump(): Promise<void> {
    this.pumping = true;
    try {
      while (this.queue.length > 0 && !this.closed) {
        const entry = this.queue[0] as QueuedCellView;
        const cell = findCell(this.doc, entry.cellId);
        const source = cell?.get('source');
        if (
          cell?.get('cell_type') !== 'code' ||
          !(source instanceof Y.Text) ||
          source.toString().trim() === ''
        ) {
          // As in JupyterLab, an empty cell is not sent: it just loses its outputs and count.
          this.runWithoutKernel(entry, cell ? null : undefined);
          continue;
        }
        try {
          await this.link.ensure(this.kernelStart);
        } catch (error) {
          this.startFailed(entry, error);
          continue;
        }
        // Interrupt, restart or shutdown may have emptied the queue while the kernel started.
        if (this.queue[0] !== entry) continue;
        const outcome = await this.execute(entry);
        if (outcome === 'error') this.cancelQueued((queued) => queued.requestId === entry.requestId);
      }
    } catch (error) {
      this.options.onError(error, 'queue');
    } finally {
      this.pumping = false;
      for (const resolve of this.idleWaiters.splice(0)) resolve();
    }
  }

  private execute(entry: QueuedCellView): Promise<Outcome> {
    return new Promise((resolve) => {
      const writer = this.newWriter(entry.cellId);
      let started = false;
      const run = (doc: Y.Doc) => {
        this.queue.shift();
        const source = findCell(doc, entry.cellId)?.get('source');
        if (!(source instanceof Y.Text)) return;
        const request = this.link.message('shell', 'execute_request', {
          // The latest source, read as the cell starts (a queued cell may have been edited meanwhile).
          code: source.toString(),
          silent: false,
          store_history: true,
          user_expressions: {},
          allow_stdin: true,
          stop_on_error: true,
        });
        for (const [msgId, route] of this.routes)
          if (route.cellId === entry.cellId) this.routes.delete(msgId);
        writer.begin();
        const msgId = request.header.msg_id;
        this.running = {
          ...entry,
          startedAt: this.options.clock(),
          msgId,
          writer,
          reply: null,
          idle: false,
          finish: (outcome) => {
            if (this.running?.msgId !== msgId) return;
            const count = this.running.reply?.content.execution_count;
            this.running = null;
            if (this.input?.cellId === entry.cellId) this.input = null;
            void this.write(() => writer.end(typeof count === 'number' ? count : undefined));
            resolve(outcome);
          },
        };
        this.addRoute(msgId, writer, entry.cellId);
        this.link.send(request);
        started = true;
      };
      void this.write((doc) => {
        try {
          run(doc);
        } catch (error) {
          // The connection went away between start and send: the kernel-lost path reports it.
          this.options.onError(error, 'execute');
        }
      });
      if (!started) resolve('cancelled');
    });
  }

  private fromKernel(message: JupyterMessage): void {
    if (this.closed) return;
    const parent = message.parent_header.msg_id as string | undefined;
    const running = this.running && parent === this.running.msgId ? this.running : null;
    if (message.channel === 'iopub') {
      if (parent) this.routes.get(parent)?.writer.handle(message);
      if (running && message.header.msg_type === 'status' && message.content.execution_state === 'idle') {
        running.idle = true;
      }
    } else if (running && message.channel === 'shell' && message.header.msg_type === 'execute_reply') {
      running.reply = message;
    } else if (running && message.channel === 'stdin' && message.header.msg_type === 'input_request') {
      this.input = {
        cellId: running.cellId,
        prompt: String(message.content.prompt ?? ''),
        password: message.content.password === true,
        requestedAt: this.options.clock(),
        request: message,
      };
      void this.write(() => {});
    }
    if (running?.reply && running.idle) {
      const status = running.reply.content.status;
      running.finish(status === 'ok' ? 'ok' : 'error');
    }
  }

  private kernelLost(reason: string): void {
    const running = this.running;
    if (running) {
      // The gateway reports a death as an error output; a dropped connection has none, so say why.
      const outputs = findCell(this.doc, running.cellId)?.get('outputs');
      const last = outputs instanceof Y.Array ? outputs.get(outputs.length - 1) : undefined;
      if (!(last instanceof Y.Map && last.get('ename') === 'KernelDied')) {
        running.writer.handle(errorMessage('KernelDied', reason));
      }
      running.finish('error');
    }
    this.cancelQueued(() => true);
  }

  private startFailed(entry: QueuedCellView, error: unknown): void {
    const writer = this.newWriter(entry.cellId);
    void this.write(() => {
      this.queue.shift();
      writer.begin();
      writer.handle(errorMessage('KernelStartFailed', this.link.reason ?? errorText(error)));
      writer.end();
    });
    this.cancelQueued(() => true);
  }

  /** An empty (or no longer code, or deleted) cell: cleared like JupyterLab does, nothing sent. */
  private runWithoutKernel(entry: QueuedCellView, missing: undefined | null): void {
    const writer = this.newWriter(entry.cellId);
    void this.write(() => {
      this.queue.shift();
      if (missing === undefined) return;
      writer.begin();
      writer.end(null);
    });
  }

  private cancelQueued(match: (entry: QueuedCellView) => boolean): void {
    if (!this.queue.some(match)) return;
    void this.write((doc) => {
      const cancelled = this.queue.filter(match);
      this.queue = this.queue.filter((entry) => !match(entry));
      for (const entry of cancelled) {
        const cell = findCell(doc, entry.cellId);
        if (cell?.get('execution_state') === 'queued') cell.set('execution_state', 'idle');
      }
    });
  }

  private endRunning(): void {
    this.running?.finish('cancelled');
    this.input = null;
  }

  private newWriter(cellId: string): OutputWriter {
    return new OutputWriter({
      doc: this.doc,
      cellId,
      limits: this.options.outputLimits,
      origin: ORIGIN,
      truncationNote: this.options.truncationNote,
      onOverflow: (event) => this.options.overflow.put(this.notebookId, event),
    });
  }

  private addRoute(msgId: string, writer: OutputWriter, cellId: string): void {
    this.routes.set(msgId, { cellId, writer });
    while (this.routes.size > this.options.maxRoutes) {
      this.routes.delete(this.routes.keys().next().value as string);
    }
  }

  /** One transaction: `change`, then the published state; resolves once stored and broadcast. */
  private write(change: (doc: Y.Doc) => void): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.lastWrite = this.options.connection
      .transact((doc) => {
        change(doc);
        writeExecutionState(doc, this.view());
      })
      .catch((error: unknown) => this.options.onError(error, 'store'));
    return this.lastWrite;
  }
}

function errorMessage(ename: string, evalue: string) {
  return {
    header: { msg_type: 'error' },
    content: { ename, evalue, traceback: [`${ename}: ${evalue}`] },
  };
}

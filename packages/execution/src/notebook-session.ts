import type { DirectConnection } from '@kiln/collab';
import { DomainError } from '@kiln/core';
import { errorText } from '@kiln/kernel-protocol';
import type { JupyterMessage } from '@kiln/kernel-protocol/client';
import { findCell, type OutputLimits, OutputWriter, type TruncationInfo } from '@kiln/notebook';
import * as Y from 'yjs';
import { CellRun, errorOutput, executeRequestContent, type Outcome } from './cell-run.ts';
import { readKernelMessage, resetExecutionState } from './execution-state.ts';
import { KernelLink, type KernelStart, type ReattachResult } from './kernel-link.ts';
import { KernelMessageAcks } from './kernel-message-acks.ts';
import { KernelRecordWriter } from './kernel-record-writer.ts';
import { noteKernelBack } from './machine-loss.ts';
import { OutputRoutes } from './output-routes.ts';
import type { OverflowStore } from './overflow-store.ts';
import { ResumeProbe, type RunningCell } from './resume-probe.ts';
import { RunMetadataWriter } from './run-metadata-writer.ts';
import { SessionWrites } from './session-writes.ts';
import type {
  CellRunWindow,
  ExecutionGateway,
  ExecutionStateView,
  KernelRecord,
  KernelStore,
  QueuedCellView,
  Requester,
  RunCostView,
} from './types.ts';

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
  kernelStore?: KernelStore;
  /** A kernel recorded by an earlier process, to re-attach to with `resume()`. */
  resume?: KernelRecord;
  reattachMs?: number;
  runCost?(run: CellRunWindow): Promise<RunCostView | null>;
}

// Origin of the service's own edits, so hooks can tell them from people's.
const ORIGIN = 'kiln-execution';

/** One notebook's queue and kernel, writing everything collaborators see into its document. */
export class NotebookSession {
  readonly notebookId: string;
  readonly workspaceId: string;
  readonly document: Y.Doc;
  private readonly link: KernelLink;
  private queue: QueuedCellView[] = [];
  private running: RunningCell | null = null;
  /** The queue stopped while the kernel's machine was away; it goes on once the kernel is reachable. */
  private waitingForKernel = false;
  private pumping = false;
  private idleWaiters: (() => void)[] = [];
  private kernelStart: KernelStart = {};
  private readonly routes: OutputRoutes;
  private closed = false;
  private readonly writes: SessionWrites;
  private readonly records: KernelRecordWriter;
  private readonly runs: RunMetadataWriter;
  private readonly probe: ResumeProbe;
  private readonly acks: KernelMessageAcks;

  constructor(private readonly options: SessionOptions) {
    this.notebookId = options.notebookId;
    this.workspaceId = options.workspaceId;
    this.document = options.connection.document;
    this.routes = new OutputRoutes(options.maxRoutes, () => this.kernelStart.redact);
    this.records = new KernelRecordWriter(options.kernelStore, options.notebookId, (error) =>
      options.onError(error, 'record kernel'),
    );
    this.writes = new SessionWrites({
      connection: options.connection,
      view: () => this.view(),
      persist: () => this.persist(),
      recordsSettled: () => this.records.settled(),
      closed: () => this.closed,
      onError: (error, stage) => options.onError(error, stage),
    });
    this.runs = new RunMetadataWriter({
      workspaceId: options.workspaceId,
      notebookId: options.notebookId,
      runCost: options.runCost,
      write: (change) => this.write(change),
      onError: (error) => options.onError(error, 'price run'),
    });
    this.acks = new KernelMessageAcks({
      lastStored: readKernelMessage(this.document),
      apply: (msgId, handle) => this.writes.applyKernelMessage(msgId, handle),
      acknowledge: (msgId) => this.link.acknowledge(msgId),
    });
    this.link = new KernelLink(
      options.gateway,
      {
        onMessage: (message) => this.fromKernel(message),
        onStatus: () => {
          void this.write(() => {});
          // The kernel is reachable again (or given up): the cells that waited for it go on.
          if (this.waitingForKernel && !this.link.isAway && !this.pumping) {
            this.waitingForKernel = false;
            if (this.queue.length > 0) void this.pump();
          }
        },
        onLost: (reason) => this.kernelLost(reason),
        onAway: (reason) => this.kernelAway(reason),
        onReattached: () => {
          // Its reply may have died with the old gateway: a probe ends it with a note if so.
          const running = this.running;
          if (running && this.link.status !== 'paused') this.probe.send(running.run.msgId);
        },
        onPaused: () => this.cancelQueued(() => true),
        acknowledging: {
          receive: (message, handle) => this.acks.receive(message, handle),
          lastStored: () => this.acks.lastStored(),
        },
      },
      options.kernelName,
      options.resume,
      options.reattachMs,
    );
    this.probe = new ResumeProbe({
      link: this.link,
      running: () => this.running,
      write: (change) => this.write(change),
    });
    void this.write((doc) => resetExecutionState(doc));
  }

  /**
   * Takes over the kernel, running cell and queue recorded by an earlier process: the gateway
   * replays what the kernel sent meanwhile into the running cell, then the queue goes on. When the
   * kernel is gone, the running cell and the kernel status say so and the queue is cleared.
   */
  async resume(away: string | null = null): Promise<ReattachResult> {
    const record = this.options.resume;
    if (!record) return { outcome: 'gone', reason: 'No kernel was recorded' };
    this.kernelStart = { resources: record.resources };
    let first: Promise<Outcome> | undefined;
    await this.write((doc) => {
      this.queue = record.queue.map((entry) => ({ ...entry }));
      for (const entry of this.queue) findCell(doc, entry.cellId)?.set('execution_state', 'queued');
      if (!record.running) return;
      const { msgId, startedAt, ...entry } = record.running;
      // No begin(): the outputs written before the restart stay, the replay appends to them.
      const writer = this.newWriter(entry.cellId);
      findCell(doc, entry.cellId)?.set('execution_state', 'running');
      first = new Promise((resolve) => this.startRun(entry, msgId, writer, startedAt, resolve));
    });
    if (away !== null) {
      // Its machine is lost but may come back with it: the running cell ends, the queue waits for it.
      this.schedulerAway(record.kernelId, away);
      await this.write(() => {});
      void this.pump(first, record.running?.requestId);
      return { outcome: 'away', reason: away };
    }
    const result = await this.link.reattach(record.running !== null);
    if (result.outcome === 'attached') {
      // A paused kernel's running cell is frozen, not lost; a probe would wake it (and bill it).
      if (record.running && this.link.status !== 'paused') this.probe.send(record.running.msgId);
      void this.pump(first, record.running?.requestId);
    } else {
      // kernelLost (through the link's hook) already ended the running cell and cleared the queue.
      await this.write(() => {});
    }
    return result;
  }

  /** Releases the document and the kernel's websocket, leaving the kernel running and recorded. */
  async detach(): Promise<void> {
    if (this.closed) return;
    this.routes.flushAll();
    const recorded = this.records.stop();
    await this.link.release();
    await recorded;
    await this.writes.flushed();
    this.closed = true;
    for (const resolve of this.idleWaiters.splice(0)) resolve();
    await this.options.connection.disconnect();
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
    // A dead kernel is replaced with this run's options (its volumes may have been deleted meanwhile).
    if (!this.link.kernelId || this.link.status === 'dead') this.kernelStart = start;
    // A run after a pause (the cap was lifted): wake the kernel, a paused running cell goes on first.
    this.link.wake();
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

  /** Resolves once every change written so far is stored and broadcast. */
  flushed(): Promise<void> {
    return this.writes.flushed();
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
    this.stopEverything();
    await this.link.restart();
  }

  /** Gives up a kernel start that waits for a machine, and the cells waiting for it. */
  cancelStart(): boolean {
    if (this.link.status !== 'queued') return false;
    this.cancelQueued(() => true);
    return this.link.cancelStart();
  }

  /** Hibernates the kernel with `reason` shown; cells waiting to run stop waiting. False when it is not this one's. */
  async pause(kernelId: string, reason: string): Promise<boolean> {
    if (this.link.kernelId !== kernelId) return false;
    this.cancelQueued(() => true);
    const paused = await this.link.pause(reason);
    await this.write(() => {});
    return paused;
  }

  /** The scheduler declared the kernel lost. */
  schedulerLost(kernelId: string, reason: string): void {
    this.awayCell = null;
    this.link.lost(kernelId, reason);
  }

  /**
   * The scheduler lost the kernel's machine, which may come back with it: the running cell ends with
   * `reason`; the kernel, its variables and the cells waiting for it are kept for `schedulerBack`.
   */
  schedulerAway(kernelId: string, reason: string): boolean {
    const cellId = this.running?.run.entry.cellId ?? null;
    if (!this.link.away(kernelId, reason)) return false;
    this.awayCell = cellId;
    return true;
  }

  /**
   * The kernel's machine came back with it: connects again, and the cell that was running when it was
   * lost says the kernel is back instead of dead. False when it could not be reached after all.
   */
  async schedulerBack(kernelId: string): Promise<boolean> {
    const cellId = this.awayCell;
    const back = await this.link.back(kernelId);
    if (!back) return false;
    this.awayCell = null;
    // The cells that waited for it run now.
    if (!this.pumping && this.queue.length > 0) void this.pump();
    await this.write((doc) => {
      if (cellId) noteKernelBack(doc, cellId, this.newWriter(cellId));
    });
    return true;
  }

  async shutdown(): Promise<void> {
    this.stopEverything();
    // A start waiting for a machine would hold the shutdown (and the process's exit) for its whole wait.
    this.link.cancelStart();
    await this.link.shutdown();
  }

  answerInput(value: string): void {
    const run = this.running?.run;
    const input = run?.input;
    if (!run || !input) throw new DomainError('CONFLICT', 'No cell of this notebook is waiting for input');
    const reply = this.link.message('stdin', 'input_reply', { value });
    reply.parent_header = { ...input.request.header };
    run.input = null;
    void this.write(() => run.echoInput(input.prompt, input.password ? null : value));
    this.link.send(reply);
  }

  /**
   * A side-effect-free shell request (completion, inspection), answered only while no cell runs or
   * waits: the kernel's shell is serial, so it would otherwise wait behind them. Null when not answered.
   */
  quietRequest(
    msgType: string,
    content: Record<string, unknown>,
    timeoutMs: number,
  ): Promise<JupyterMessage | null> {
    if (this.closed || this.running || this.queue.length > 0) return Promise.resolve(null);
    return this.link.quietRequest(msgType, content, timeoutMs);
  }

  view(): ExecutionStateView {
    const run = this.running?.run;
    return {
      kernel: {
        status: this.link.status,
        reason: this.link.reason,
        kernelId: this.link.kernelId,
        // Only while known, so documents without a scheduler look as before.
        ...(this.link.queue ? { queue: this.link.queue } : {}),
        ...(this.link.granted ? { granted: this.link.granted } : {}),
      },
      running: run?.runningView() ?? null,
      queue: this.queue.map((entry) => ({ ...entry })),
      input: run?.inputView() ?? null,
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

  private async pump(first?: Promise<Outcome>, firstRequest?: string): Promise<void> {
    this.pumping = true;
    try {
      if (first && (await first) === 'error') {
        this.cancelQueued((queued) => queued.requestId === firstRequest);
      }
      while (this.queue.length > 0 && !this.closed) {
        // Its machine is lost but may come back with it: the queue waits (`schedulerBack` goes on).
        if (this.link.isAway) {
          this.waitingForKernel = true;
          break;
        }
        const entry = this.queue[0] as QueuedCellView;
        const cell = findCell(this.document, entry.cellId);
        const source = cell?.get('source');
        if (cell?.get('cell_type') !== 'code' || !(source instanceof Y.Text)) {
          // Deleted or turned into markdown while it waited.
          this.dequeue(() => {
            if (cell?.get('execution_state') === 'queued') cell.set('execution_state', 'idle');
          });
          continue;
        }
        if (source.toString().trim() === '') {
          // As in JupyterLab, an empty cell is not sent: it just loses its outputs and count.
          const writer = this.newWriter(entry.cellId);
          this.dequeue(() => {
            writer.begin();
            writer.end(null);
          });
          continue;
        }
        try {
          await this.link.ensure(this.kernelStart, () => this.queue[0] === entry);
        } catch (error) {
          // Cancelled while waiting for a machine: its cells already stopped waiting, nothing failed.
          if (this.queue[0] !== entry) continue;
          if (this.link.isAway) {
            this.waitingForKernel = true;
            break;
          }
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

  /** Starts the cell at the head of the queue; resolves when it is over. */
  private execute(entry: QueuedCellView): Promise<Outcome> {
    return new Promise((resolve) => {
      const writer = this.newWriter(entry.cellId);
      let started = false;
      this.dequeue((doc) => {
        const source = findCell(doc, entry.cellId)?.get('source');
        if (!(source instanceof Y.Text)) return;
        // The latest source, read as the cell starts (a queued cell may have been edited meanwhile).
        const request = this.link.message(
          'shell',
          'execute_request',
          executeRequestContent(source.toString()),
        );
        const msgId = request.header.msg_id;
        this.routes.forgetCell(entry.cellId);
        writer.begin();
        const startedAt = this.options.clock();
        this.runs.started(doc, entry.cellId, startedAt);
        const run = this.startRun(entry, msgId, writer, startedAt, resolve);
        started = true;
        // Recorded before it is sent: a process that dies now must not run the cell a second time.
        void this.records.settled().then(async () => {
          await this.persist();
          if (this.running?.run === run) this.link.send(request);
        });
      });
      if (!started) resolve('cancelled');
    });
  }

  private startRun(
    entry: QueuedCellView,
    msgId: string,
    writer: OutputWriter,
    startedAt: number,
    resolve: (outcome: Outcome) => void,
  ): CellRun {
    const run = new CellRun(entry, msgId, writer, startedAt, this.options.clock);
    this.running = {
      run,
      finish: (outcome) => {
        if (this.running?.run !== run) return;
        this.running = null;
        const endedAt = this.options.clock();
        void this.write((doc) => {
          writer.end(run.executionCount);
          this.runs.ended(doc, entry.cellId, startedAt, endedAt);
        });
        this.runs.price(this.link.kernelId, entry.cellId, startedAt, endedAt);
        resolve(outcome);
      },
    };
    this.routes.add(msgId, entry.cellId, writer);
    return run;
  }

  /** What a restarted process needs to take this notebook's kernel over; null when there is nothing to take. */
  private record(): KernelRecord | null {
    const kernelId = this.link.kernelId;
    if (!kernelId || !this.link.reattachable) return null;
    const run = this.running?.run;
    const running = run?.runningView();
    return {
      notebookId: this.notebookId,
      workspaceId: this.workspaceId,
      kernelId,
      sessionId: this.link.sessionId,
      running: run && running ? { ...running, msgId: run.msgId } : null,
      queue: this.queue.map((entry) => ({ ...entry })),
      ...(this.kernelStart.resources ? { resources: this.kernelStart.resources } : {}),
    };
  }

  /** Stores the current kernel record (when it changed); resolves once this state is stored. */
  private persist(): Promise<void> {
    return this.records.write(this.record());
  }

  private fromKernel(message: JupyterMessage): void {
    if (this.closed) return;
    const parent = message.parent_header.msg_id as string | undefined;
    if (!parent) return;
    if (this.probe.take(message, parent)) return;
    if (message.channel === 'iopub') this.routes.deliver(parent, message);
    else this.routes.flush(parent);
    const running = this.running;
    if (running?.run.msgId !== parent) return;
    const result = running.run.take(message);
    if (result === 'input') void this.write(() => {});
    else if (result) running.finish(result);
  }

  /** The cell that was running when the kernel's machine was lost (see `schedulerAway`). */
  private awayCell: string | null = null;

  private kernelLost(reason: string): void {
    this.routes.flushAll();
    const running = this.running;
    if (running) {
      // The gateway reports a death as an error output; a dropped connection has none, so say why.
      const outputs = findCell(this.document, running.run.entry.cellId)?.get('outputs');
      const last = outputs instanceof Y.Array ? outputs.get(outputs.length - 1) : undefined;
      if (!(last instanceof Y.Map && last.get('ename') === 'KernelDied')) {
        running.run.writer.handle(errorOutput('KernelDied', reason));
      }
      running.finish('error');
    }
    this.endQueued(reason, !running);
  }

  /** The kernel's machine is lost but may come back: the running cell ends with why, the queue waits. */
  private kernelAway(reason: string): void {
    this.routes.flushAll();
    const running = this.running;
    if (!running) return;
    running.run.writer.handle(errorOutput('KernelDied', reason));
    // Not an error of the cell's: the cells of its run queued behind it still wait for the kernel.
    running.finish('cancelled');
  }

  /**
   * The kernel is gone, so nothing queued for it runs. When a cell was running, it carries why; the cells
   * queued behind it go back to idle with the outputs they had, as in JupyterLab (a cell that kills its
   * kernel in a Run all must not wipe every later cell's output). When none was running (a run asked
   * for while the kernel was being taken back), the first waiting cell says why instead of going quietly
   * idle with its old output, which would look as if it had run.
   */
  private endQueued(reason: string, tellFirst: boolean): void {
    if (this.queue.length === 0) return;
    void this.write((doc) => {
      const ended = this.queue;
      this.queue = [];
      let told = !tellFirst;
      for (const entry of ended) {
        const cell = findCell(doc, entry.cellId);
        if (cell?.get('execution_state') !== 'queued') continue;
        if (told) {
          cell.set('execution_state', 'idle');
          continue;
        }
        told = true;
        const writer = this.newWriter(entry.cellId);
        writer.begin();
        writer.handle(errorOutput('KernelDied', reason));
        writer.end();
      }
    });
  }

  private startFailed(entry: QueuedCellView, error: unknown): void {
    const writer = this.newWriter(entry.cellId);
    this.dequeue(() => {
      writer.begin();
      writer.handle(errorOutput('KernelStartFailed', this.link.reason ?? errorText(error)));
      writer.end();
    });
    this.cancelQueued(() => true);
  }

  /** Takes the head of the queue off, in one transaction with `change`. */
  private dequeue(change: (doc: Y.Doc) => void): void {
    void this.write((doc) => {
      this.queue.shift();
      try {
        change(doc);
      } catch (error) {
        // The kernel connection went away as the cell started: the kernel-lost path reports it.
        this.options.onError(error, 'execute');
      }
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

  /** Restart and shutdown: nothing waits, the running cell ends with what it printed so far. */
  private stopEverything(): void {
    this.routes.flushAll();
    this.cancelQueued(() => true);
    this.running?.finish('cancelled');
    this.routes.clear();
  }

  private newWriter(cellId: string): OutputWriter {
    return new OutputWriter({
      doc: this.document,
      cellId,
      limits: this.options.outputLimits,
      origin: ORIGIN,
      truncationNote: this.options.truncationNote,
      onOverflow: (event) => this.options.overflow.put(this.notebookId, event),
    });
  }

  /** One transaction: `change`, then the published state; resolves once stored and broadcast. */
  private write(change: (doc: Y.Doc) => void): Promise<void> {
    return this.writes.write(change);
  }
}

import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { describeExit } from './exit-reason.ts';
import { checkpointInstance, destroyInstance, type SandboxInstance } from './sandbox-instance.ts';
import { openSandboxTerminal } from './sandbox-terminal.ts';
import type {
  ExitReason,
  JupyterMessage,
  KernelSandbox,
  KernelSandboxOptions,
  TerminalPty,
} from './types.ts';

/** Session of the notices the sandbox writes itself, so a notice that fails is not retried. */
const NOTICE_SESSION = `kiln-gateway-${randomUUID()}`;

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : 'error';
}

/** A stderr output telling the notebook that Kiln dropped one of the kernel's messages, and why. */
export function droppedNotice(reason: string, parentHeader: Record<string, unknown>): JupyterMessage {
  return {
    channel: 'iopub',
    header: {
      msg_id: randomUUID(),
      msg_type: 'stream',
      session: NOTICE_SESSION,
      username: 'kiln',
      date: new Date().toISOString(),
      version: '5.3',
    },
    parent_header: parentHeader,
    metadata: {},
    content: { name: 'stderr', text: `[Kiln] A message from the kernel was dropped: ${reason}.\n` },
    buffers: [],
  };
}

export type StartedFrom = KernelSandbox['startedFrom'];

/** Where a kernel gets a running sandbox from (pool, snapshot restore or cold boot). */
export interface InstanceSource {
  acquire(options: KernelSandboxOptions): Promise<{ instance: SandboxInstance; startedFrom: StartedFrom }>;
  /** Called once a sandbox is gone for good, so its resources (GPUs) can be released. */
  released(kernelId: string): void;
}

type State = 'running' | 'hibernating' | 'hibernated' | 'resuming' | 'restarting' | 'dead';

/** A kernel in a runsc sandbox; survives restarts (new sandbox, same volume) and hibernation. */
export class RunscKernelSandbox implements KernelSandbox {
  private readonly messageListeners = new Set<(message: JupyterMessage) => void>();
  private readonly exitListeners = new Set<(reason: ExitReason) => void>();
  private state: State = 'running';
  private detach: (() => void)[] = [];
  private pendingResume: Promise<void> | undefined;
  private retiring: Promise<void>[] = [];

  constructor(
    private readonly options: KernelSandboxOptions,
    private instance: SandboxInstance,
    private started: StartedFrom,
    private readonly source: InstanceSource,
  ) {
    this.attach(instance);
  }

  get id(): string {
    return this.options.kernelId;
  }

  get startedFrom(): StartedFrom {
    return this.started;
  }

  /** The runsc container id currently hosting this kernel (changes on restart). */
  get containerId(): string {
    return this.instance.container.id;
  }

  private attach(instance: SandboxInstance): void {
    const offFrame = instance.channel.onFrame((frame) => {
      if (frame.kind === 'message') this.emit(frame.message);
      // The kernel is fine, the output is not: say so under the cell that produced it.
      else if (frame.kind === 'rejected') this.emit(droppedNotice(frame.reason, frame.parentHeader));
    });
    this.detach = [offFrame];
    this.watchExit(instance);
  }

  private watchExit(instance: SandboxInstance): void {
    instance.container.exited().then(async (exit) => {
      // Exits we caused (checkpoint, restart, shutdown) are not news; a dead kernel is.
      if (this.instance !== instance || this.state !== 'running') return;
      this.state = 'dead';
      const reason = describeExit(exit, instance.resources.memoryMiB);
      for (const listener of this.exitListeners) listener(reason);
      await destroyInstance(instance);
      this.source.released(this.id);
    });
  }

  private emit(message: JupyterMessage): void {
    for (const listener of this.messageListeners) {
      try {
        listener(message);
      } catch (error) {
        console.error(`[kernel-gateway] kernel ${this.id}: a message could not be delivered:`, error);
        if (message.header.session === NOTICE_SESSION) continue;
        listener(droppedNotice(`it could not be delivered (${errorName(error)})`, message.parent_header));
      }
    }
  }

  send(message: JupyterMessage): void {
    if (this.state === 'dead') return;
    // Sending to a hibernated kernel wakes it; the channel queues the message until the agent is back.
    if (this.state === 'hibernated') void this.resume().catch(() => undefined);
    this.instance.channel.send(message);
  }

  onMessage(listener: (message: JupyterMessage) => void): () => void {
    this.messageListeners.add(listener);
    return () => this.messageListeners.delete(listener);
  }

  onExit(listener: (reason: ExitReason) => void): () => void {
    this.exitListeners.add(listener);
    return () => this.exitListeners.delete(listener);
  }

  async interrupt(): Promise<void> {
    if (this.state !== 'running') return;
    if (this.instance.channel.connected) {
      // The agent's reader thread signals the main thread: no runsc process to spawn, ~1 ms.
      this.instance.channel.command({ op: 'interrupt' });
    } else {
      await this.instance.container.kill('SIGINT');
    }
  }

  async restart(): Promise<void> {
    if (this.state === 'dead') throw new Error('kernel is dead');
    if (this.state === 'hibernated') await this.resume();
    const old = this.instance;
    this.state = 'restarting';
    try {
      const { instance, startedFrom } = await this.source.acquire(this.options);
      for (const off of this.detach) off();
      this.instance = instance;
      this.started = startedFrom;
      this.attach(instance);
    } finally {
      this.state = 'running';
    }
    // The new interpreter is already answering; tearing the old sandbox down (~1 s) need not delay it.
    this.retiring.push(destroyInstance(old).catch(() => undefined));
  }

  private get hibernatePath(): string {
    return join(this.instance.container.runDir, 'hibernate');
  }

  async hibernate(): Promise<void> {
    if (this.state !== 'running') return;
    this.state = 'hibernating';
    try {
      await checkpointInstance(this.instance, this.hibernatePath);
      await this.instance.container.destroy();
      this.state = 'hibernated';
    } catch (error) {
      this.state = 'running';
      await this.instance.channel.listen();
      throw error;
    }
  }

  resume(): Promise<void> {
    if (this.state !== 'hibernated') return this.pendingResume ?? Promise.resolve();
    this.state = 'resuming';
    this.pendingResume = (async () => {
      const { channel, container } = this.instance;
      await channel.listen();
      const hello = channel.waitForHello(30_000);
      await container.restore(this.hibernatePath);
      await hello;
      await container.limitCpu(this.instance.resources.cpu);
      await rm(this.hibernatePath, { recursive: true, force: true });
      this.state = 'running';
      this.watchExit(this.instance);
    })();
    this.pendingResume.finally(() => {
      this.pendingResume = undefined;
    });
    return this.pendingResume;
  }

  openTerminal(options: { cols: number; rows: number }): TerminalPty {
    if (this.state !== 'running') throw new Error(`cannot open a terminal while the kernel is ${this.state}`);
    return openSandboxTerminal(this.instance.container, options);
  }

  async shutdown(): Promise<void> {
    if (this.state === 'dead') return;
    this.state = 'dead';
    for (const off of this.detach) off();
    await Promise.all([destroyInstance(this.instance), ...this.retiring]);
    this.source.released(this.id);
  }
}

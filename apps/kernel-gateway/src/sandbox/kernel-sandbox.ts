import { randomUUID } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { EnvSeal } from './env-seal.ts';
import { describeExit } from './exit-reason.ts';
import { PhaseClock } from './phase-clock.ts';
import type { CheckpointArgs } from './runsc-features.ts';
import { checkpointInstance, destroyInstance, type SandboxInstance } from './sandbox-instance.ts';
import { writeSandboxRecord } from './sandbox-record.ts';
import { openSandboxTerminal } from './sandbox-terminal.ts';
import { type SealedCheckpoint, sealCheckpoint, unsealCheckpoint } from './sealed-checkpoint.ts';
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

/**
 * What the sandbox keeps of itself for later: where hibernation images are written in clear
 * (memory-backed) and how runsc writes them there, and how its record seals the kernel's env.
 */
export interface HibernationStorage {
  scratchDir: string;
  /** Without O_DIRECT, which tmpfs refuses. */
  args: CheckpointArgs;
  /** Without it the record leaves the env out (a re-adopted kernel's restart then lacks it). */
  envSeal?: EnvSeal;
}

type State = 'running' | 'hibernating' | 'hibernated' | 'resuming' | 'restarting' | 'dead';

/** How a sandbox left by a gateway that died was found by the next one. */
export interface AdoptedState {
  /** Checkpointed (hibernated) rather than running. */
  hibernated: boolean;
  /** GPUs the sandbox was placed on (its runsc calls need the nvproxy flags). */
  gpuIndices?: number[];
  /** The key of its sealed hibernation image (base64), as its record kept it sealed. */
  checkpointKey?: string;
  /**
   * Left running, and its agent not yet back: its exit is watched only from `agentBack()` on (a sandbox
   * that turns out to be stopped is the adoption's failure to report, not a crash).
   */
  awaitingAgent?: boolean;
}

/** A kernel in a runsc sandbox; survives restarts (new sandbox, same volume) and hibernation. */
export class RunscKernelSandbox implements KernelSandbox {
  private readonly messageListeners = new Set<(message: JupyterMessage) => void>();
  private readonly exitListeners = new Set<(reason: ExitReason) => void>();
  private state: State = 'running';
  private detach: (() => void)[] = [];
  private pendingResume: Promise<void> | undefined;
  private retiring: Promise<void>[] = [];
  private saving: Promise<void> = Promise.resolve();
  /** The re-adopted instance whose agent has not answered yet (its exit is not watched until then). */
  private awaitingAgent: SandboxInstance | undefined;
  /** Removal of the last hibernation image after a wake, still under way. */
  private cleanup: Promise<void> = Promise.resolve();

  /** The hibernation image on disk, encrypted; its key exists only here. */
  private sealed: SealedCheckpoint | undefined;

  constructor(
    private readonly options: KernelSandboxOptions,
    private instance: SandboxInstance,
    private started: StartedFrom,
    private readonly source: InstanceSource,
    private readonly hibernation: HibernationStorage,
    private readonly placed: AdoptedState = { hibernated: false },
  ) {
    if (placed.hibernated) {
      // Re-adopted asleep: nothing runs until the next message restores it.
      this.state = 'hibernated';
      if (placed.checkpointKey)
        this.sealed = { dir: this.hibernatePath, key: Buffer.from(placed.checkpointKey, 'base64') };
      this.listenFrames(instance);
    } else if (placed.awaitingAgent) {
      this.awaitingAgent = instance;
      this.listenFrames(instance);
    } else this.attach(instance);
    void this.record();
  }

  /** A re-adopted sandbox's agent answered: from now on its exit is the kernel's death. */
  agentBack(): void {
    if (this.state === 'running' && this.awaitingAgent === this.instance) this.watchExit(this.instance);
    this.awaitingAgent = undefined;
  }

  /**
   * Writes what a restarted gateway needs to re-adopt this sandbox into its run dir (in order: the
   * last write wins). A failed write only costs re-adoption, so it is logged, never thrown. Resolves
   * once this write is on disk: a state change a caller was told of must survive a crash right after.
   */
  private record(): Promise<void> {
    const { runDir } = this.instance.container;
    const record = {
      kernelId: this.options.kernelId,
      workspaceId: this.options.workspaceId,
      resources: this.options.resources,
      ...(this.options.env ? { env: this.options.env } : {}),
      ...(this.options.volumes ? { volumes: this.options.volumes } : {}),
      ...(this.options.diskMiB !== undefined ? { diskMiB: this.options.diskMiB } : {}),
      ...(this.placed.gpuIndices ? { gpuIndices: this.placed.gpuIndices } : {}),
      startedFrom: this.started,
      hibernated: this.state === 'hibernated' || this.state === 'hibernating',
      ...(this.sealed ? { checkpointKey: this.sealed.key.toString('base64') } : {}),
    };
    this.saving = this.saving
      .then(() => writeSandboxRecord(runDir, record, this.hibernation.envSeal))
      .catch((error: unknown) => {
        if (this.state === 'dead') return;
        console.error(`[kernel-gateway] kernel ${this.id}: could not record its sandbox:`, error);
      });
    return this.saving;
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
    this.listenFrames(instance);
    this.watchExit(instance);
  }

  private listenFrames(instance: SandboxInstance): void {
    const offFrame = instance.channel.onFrame((frame) => {
      if (frame.kind === 'message') this.emit(frame.message);
      // The kernel is fine, the output is not: say so under the cell that produced it.
      else if (frame.kind === 'rejected') this.emit(droppedNotice(frame.reason, frame.parentHeader));
    });
    this.detach = [offFrame];
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

  async interrupt(executionId?: string): Promise<void> {
    if (this.state !== 'running') return;
    if (this.instance.channel.connected) {
      // The agent's reader thread signals the main thread: no runsc process to spawn, ~1 ms.
      this.instance.channel.command(
        executionId ? { op: 'interrupt', execution: executionId } : { op: 'interrupt' },
      );
    } else if (!executionId) {
      // A bare SIGINT cannot tell one request from another: a targeted interrupt waits for the agent.
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
    // Resolves once a gateway restarting after a crash would find the new sandbox.
    const recorded = this.record();
    // The new interpreter is already answering; tearing the old sandbox down (~1 s) need not delay it.
    this.retiring.push(destroyInstance(old).catch(() => undefined));
    await recorded;
  }

  private get hibernatePath(): string {
    return join(this.instance.container.runDir, 'hibernate');
  }

  /** A fresh root-only folder in memory-backed scratch space for the image in clear. */
  private async scratchPath(): Promise<string> {
    await mkdir(this.hibernation.scratchDir, { recursive: true, mode: 0o700 });
    return join(this.hibernation.scratchDir, `${this.instance.container.id}-${randomUUID().slice(0, 8)}`);
  }

  async hibernate(): Promise<void> {
    if (this.state !== 'running') return;
    this.state = 'hibernating';
    // The last wake's image is still being deleted from the path this one is sealed into.
    await this.cleanup;
    const plain = await this.scratchPath();
    const phases = new PhaseClock();
    try {
      await checkpointInstance(this.instance, plain, this.hibernation.args);
      phases.mark('runsc checkpoint');
      await this.instance.container.destroy();
      phases.mark('runsc delete');
      this.sealed = await sealCheckpoint(plain, this.hibernatePath);
      phases.mark('seal');
      this.state = 'hibernated';
      // Told "hibernated" only once a gateway restarting after a crash would find it so (asleep, with
      // the image's key), not with the record of a running sandbox that is no longer there.
      await this.record();
      phases.mark('record');
      console.log(`[kernel-gateway] kernel ${this.id} hibernated ${phases}`);
    } catch (error) {
      await rm(plain, { recursive: true, force: true });
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
      const sealed = this.sealed;
      // Re-adopted asleep after a gateway crash, from a record whose sealed key could not be opened.
      if (!sealed)
        throw new Error(
          'the gateway restarted while this kernel was hibernated, and its image key cannot be opened',
        );
      const plain = await this.scratchPath();
      const phases = new PhaseClock();
      try {
        await unsealCheckpoint(sealed, plain);
        phases.mark('unseal');
        await channel.listen();
        const hello = channel.waitForHello(30_000);
        await container.restore(plain, this.hibernation.args);
        phases.mark('runsc restore');
        await hello;
        phases.mark('agent hello');
      } catch (error) {
        await rm(plain, { recursive: true, force: true });
        throw error;
      }
      // User code runs only under the kernel's own CPU quota: the messages that woke it wait for this.
      await container.limitCpu(this.instance.resources.cpu);
      this.sealed = undefined;
      this.state = 'running';
      // The record says "running" before the image goes: a crash in between leaves a running sandbox
      // that is re-adopted awake, never a record pointing at a deleted image.
      await this.record();
      phases.mark('CPU limit and record');
      console.log(`[kernel-gateway] kernel ${this.id} woke ${phases}`);
      this.watchExit(this.instance);
      // Deleting the image in clear and the sealed one (~100 MB each) need not hold up the first cell
      // (40-130 ms measured under load), only follow the record; the next checkpoint and shutdown wait for it.
      this.cleanup = Promise.all([
        rm(plain, { recursive: true, force: true }),
        rm(sealed.dir, { recursive: true, force: true }),
      ]).then(
        () => undefined,
        (error: unknown) =>
          console.error(`[kernel-gateway] kernel ${this.id}: could not remove its hibernation image:`, error),
      );
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
    await Promise.all([destroyInstance(this.instance), ...this.retiring, this.cleanup]);
    this.source.released(this.id);
  }
}

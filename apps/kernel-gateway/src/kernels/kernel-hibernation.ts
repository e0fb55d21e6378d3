import type { HibernationState } from '@kiln/kernel-protocol';
import type { JupyterMessage, KernelSandbox } from '../sandbox/types.ts';

/** Where a kernel stands with hibernation: `awake` is the only state in which its sandbox runs. */
export type { HibernationState };

/** Where a kernel waiting to wake stands in the scheduler's queue. */
export interface WakeQueue {
  position: number;
  ahead: number;
  /** For people: "waiting for 1 CPU and 2 GiB on node-a: 0 ahead". */
  reason: string;
  /** When it gives up (ms since the epoch). */
  deadline: number;
}

/** Told around sleep and wake (the scheduler node: its resources go back while asleep). */
export interface HibernationHooks {
  /** After the checkpoint is written; errors are the hook's to report. */
  asleep?(): Promise<void>;
  /**
   * Before restoring; throwing keeps the kernel from waking (it is reported dead with the reason). While
   * its room is taken it may wait for it, telling `queued` where it stands (called again as that changes).
   */
  waking?(queued: (queue: WakeQueue) => void): Promise<void>;
  /** After restoring. */
  awake?(): Promise<void>;
}

// A client flooding a sleeping kernel must not grow the gateway without bound.
const MAX_QUEUED = 10_000;

/**
 * Checkpoints a kernel's sandbox to disk and wakes it on demand. Messages that arrive while the
 * kernel sleeps (or is on its way to or from sleep) are held and delivered in order once it is back.
 */
export class KernelHibernation {
  state: HibernationState = 'awake';
  /** When the kernel last woke (or started); its idle time counts from here at the earliest. */
  awakeSince = new Date();
  private queue: JupyterMessage[] = [];
  private transition: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly sandbox: () => KernelSandbox,
    /** Called when the sandbox cannot be restored: the kernel is lost and should be reported dead. */
    private readonly onResumeFailed: (error: unknown) => void,
    private readonly hooks: HibernationHooks = {},
    initial: 'awake' | 'hibernated' = 'awake',
    /** The kernel waits in the scheduler's queue for its room before it can wake. */
    private readonly onQueued: (queue: WakeQueue) => void = () => {},
  ) {
    this.state = initial;
  }

  get asleep(): boolean {
    return this.state !== 'awake';
  }

  /** Messages waiting for the kernel to wake. */
  get queued(): number {
    return this.queue.length;
  }

  /** Checkpoints the sandbox; on failure the kernel stays awake and its idle clock starts over. */
  hibernate(): Promise<void> {
    if (this.state !== 'awake') return this.transition ?? Promise.resolve();
    this.state = 'hibernating';
    const run = (async () => {
      try {
        await this.sandbox().hibernate();
        this.state = 'hibernated';
        await this.hooks.asleep?.();
      } catch (error) {
        this.state = 'awake';
        this.awakeSince = new Date();
        this.flush();
        throw error;
      }
    })();
    this.transition = this.settle(run);
    return run.then(() => {
      // Someone knocked while the checkpoint was being written.
      if (this.queue.length > 0 && !this.stopped) void this.wake().catch(() => undefined);
    });
  }

  /** Restores the sandbox (no-op when awake); resolves once the kernel can take messages again. */
  wake(): Promise<void> {
    if (this.state === 'awake' || this.stopped) return Promise.resolve();
    if (this.state === 'hibernating') {
      return (this.transition ?? Promise.resolve()).then(() => this.wake());
    }
    if (this.state === 'resuming') return this.transition ?? Promise.resolve();
    this.state = 'resuming';
    const run = (async () => {
      try {
        await this.hooks.waking?.((queue) => this.onQueued(queue));
        await this.sandbox().resume();
        await this.hooks.awake?.();
      } catch (error) {
        this.state = 'awake';
        this.queue = [];
        this.onResumeFailed(error);
        throw error;
      }
      this.state = 'awake';
      this.awakeSince = new Date();
      this.flush();
    })();
    this.transition = this.settle(run);
    return run;
  }

  /** Sends to the sandbox now, or queues the message and wakes the kernel. */
  send(message: JupyterMessage): void {
    if (this.state === 'awake') {
      this.sandbox().send(message);
      return;
    }
    if (this.stopped) return;
    if (this.queue.length >= MAX_QUEUED) this.queue.shift();
    this.queue.push(message);
    if (this.state === 'hibernated') void this.wake().catch(() => undefined);
  }

  /** For shutdown: drops held messages, wakes nothing more, and waits for a checkpoint or restore in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.queue = [];
    await this.transition;
  }

  private flush(): void {
    const queued = this.queue;
    this.queue = [];
    for (const message of queued) this.sandbox().send(message);
  }

  private settle(run: Promise<void>): Promise<void> {
    const settled = run.then(
      () => undefined,
      () => undefined,
    );
    void settled.then(() => {
      if (this.transition === settled) this.transition = undefined;
    });
    return settled;
  }
}

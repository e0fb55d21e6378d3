import { randomUUID } from 'node:crypto';
import { DomainError } from '@kiln/core';
import { KILN_ACK, type VolumeMountSpec } from '@kiln/kernel-protocol';
import { GatewayError, type JupyterMessage } from '@kiln/kernel-protocol/client';
import { asDomainError, describeFailure, goneMessage } from './gateway-failures.ts';
import { BACK, MachineLoss } from './machine-loss.ts';
import { QuietRequests } from './quiet-requests.ts';
import type {
  ExecutionGateway,
  KernelConnection,
  KernelGrant,
  KernelImage,
  KernelQueueView,
  KernelResources,
  KernelStatus,
  Redact,
} from './types.ts';

export interface KernelLinkHooks {
  /** Every message from the kernel (replies, iopub, stdin requests). */
  onMessage(message: JupyterMessage): void;
  /** The status or reason changed. */
  onStatus(): void;
  /** The kernel died or its connection broke; nothing more will come for what is running. */
  onLost(reason: string): void;
  /**
   * The connection broke (a gateway restart) and the kernel was taken back: what the running cell
   * sent meanwhile may be lost with the old gateway, including its reply.
   */
  onReattached?(): void;
  /**
   * The kernel's machine was lost but may come back with it: nothing more will come for what is
   * running, but cells waiting for the kernel can wait for its return (`onLost` follows if it does not).
   */
  onAway(reason: string): void;
  /** The kernel was paused (here or by another process through the gateway); cells waiting stop waiting. */
  onPaused?(): void;
  /**
   * With it, the link uses Kiln's acknowledgement extension: every message from the kernel is handled
   * through `receive` (which calls `handle`, or drops a replayed message it already applied), the
   * owner calls `acknowledge()` once a message is stored, and a (re)connect asks the gateway to replay
   * what it sent after `lastStored()`.
   */
  acknowledging?: {
    receive(message: JupyterMessage, handle: () => void): void;
    lastStored(): string | null;
  };
}

/** What re-attaching to a recorded kernel found. */
export type ReattachResult =
  | { outcome: 'attached'; reason: null }
  | { outcome: 'gone' | 'unreachable' | 'away'; reason: string };

export interface KernelStart {
  resources?: KernelResources;
  env?: Record<string, string>;
  /** Named volumes the kernel mounts. */
  volumes?: VolumeMountSpec[];
  image?: KernelImage;
  /** Applied to every text of the kernel's outputs before they are stored (masks secret values in `env`). */
  redact?: Redact;
  /** Who ran the cell that starts the kernel (the container's requester). */
  requestedById?: string;
}

/** One notebook's kernel on the gateway: started on demand, one websocket, its status as collaborators see it. */
export class KernelLink {
  kernelId: string | null = null;
  status: KernelStatus = 'none';
  reason: string | null = null;
  /** While the kernel waits for a machine. */
  queue: KernelQueueView | null = null;
  /** What the running kernel actually got. */
  granted: KernelGrant | null = null;
  private starting: AbortController | null = null;
  private cancelled = false;
  private channel: KernelConnection | null = null;
  private offMessage: (() => void) | null = null;
  /** A start, restart or shutdown in flight; everything else waits for it. */
  private transition: Promise<unknown> = Promise.resolve();
  // One Jupyter session for the notebook, so a reconnect gets output the gateway buffered meanwhile.
  readonly sessionId: string;
  private lastDeathReason: string | null = null;
  private connectionLost = false;
  /** While the scheduler's lost machine may come back with the kernel. */
  private readonly machine = new MachineLoss();
  /** Completions, inspections and wake-ups: their busy/idle statuses must not flicker the kernel status. */
  private readonly quiet = new QuietRequests();
  /** While paused: whether a cell was running when the kernel was put to sleep. */
  private pausedBusy = false;

  constructor(
    private readonly gateway: ExecutionGateway,
    private readonly hooks: KernelLinkHooks,
    private readonly kernelName?: string,
    /** A kernel recorded by an earlier process: `reattach()` connects to it under its session. */
    resume?: { kernelId: string; sessionId: string },
    private readonly reattachMs = 30_000,
  ) {
    this.sessionId = resume?.sessionId ?? randomUUID();
    this.kernelId = resume?.kernelId ?? null;
  }

  /** Whether the kernel may still be alive with its variables (worth recording for a restarted process). */
  get reattachable(): boolean {
    return this.kernelId !== null && (this.status !== 'dead' || this.connectionLost);
  }

  /**
   * Connects to the recorded kernel again, retrying while the gateway does not answer (it may be
   * restarting too). `gone` when the gateway answers that it no longer has the kernel.
   */
  reattach(busy: boolean): Promise<ReattachResult> {
    return this.serial(async () => {
      const result = await this.tryReattach(busy);
      if (result === null) return { outcome: 'gone', reason: this.reason ?? 'The kernel was given up' };
      if (result.outcome !== 'attached') this.notReattached(result.reason);
      return result;
    });
  }

  /** Whether the kernel waits for its lost machine to come back with it (see `away`). */
  get isAway(): boolean {
    return this.machine.waiting(this.status);
  }

  /** A re-attach failed: the kernel is lost, or only away while its machine may come back. */
  private notReattached(reason: string): void {
    if (this.machine.waiting(this.status)) this.hooks.onAway(reason);
    else this.hooks.onLost(reason);
  }

  /** Closes the websocket but leaves the kernel running (the web process stops; a later one re-attaches). */
  release(): Promise<void> {
    return this.serial(async () => this.detach());
  }

  /**
   * Null when the attempt was overtaken: while it retried, the kernel was declared lost (`lost`) or
   * replaced, so what it found is no longer news and must not end cells queued since.
   */
  private async tryReattach(busy: boolean): Promise<ReattachResult | null> {
    const kernelId = this.kernelId;
    if (!kernelId) return { outcome: 'gone', reason: 'No kernel was recorded' };
    this.setStatus('reconnecting', 'Reconnecting to the kernel…');
    const deadline = Date.now() + this.reattachMs;
    let delay = 250;
    for (;;) {
      if (this.kernelId !== kernelId) return null;
      try {
        await this.attach(kernelId);
        this.connectionLost = false;
        // Reached again while its machine was declared lost: it came back with the kernel (`back()`
        // follows once the scheduler notices), and the bar says so rather than a plain idle.
        this.setStatus(busy ? 'busy' : 'idle', this.machine.reason !== null ? BACK : null);
        // Paused by Kiln (a spending cap) before this process took over: it stays asleep, and says why.
        const paused = await this.pausedOnGateway(kernelId);
        if (paused !== null) this.pausedElsewhere(paused);
        return { outcome: 'attached', reason: null };
      } catch (error) {
        if (this.kernelId !== kernelId) return null;
        const status = (error as { status?: unknown }).status;
        if (status === 404 || status === 403 || status === 410) {
          this.kernelId = null;
          this.connectionLost = false;
          this.machine.end();
          const told = status === 410 ? goneMessage(error) : null;
          const reason = told
            ? `The kernel is gone: ${told.charAt(0).toLowerCase()}${told.slice(1)}`
            : 'The kernel is gone: the kernel gateway no longer has it (it was restarted or the kernel stopped), so its variables are lost. Run the cell again to start a new kernel.';
          this.setStatus('dead', reason);
          return { outcome: 'gone', reason };
        }
        if (Date.now() + delay > deadline) {
          this.connectionLost = true;
          const away = this.machine.reason;
          if (away) {
            // Its machine is lost but may come back with it: `back()` connects again when it does.
            this.setStatus('reconnecting', away);
            return { outcome: 'unreachable', reason: away };
          }
          const reason = `${describeFailure(error)} If it comes back, the kernel and its variables are still there: run a cell to reconnect.`;
          this.setStatus('dead', reason);
          return { outcome: 'unreachable', reason };
        }
        // Jitter so many notebooks re-attaching at once do not hit the gateway in step.
        await new Promise((resolve) => setTimeout(resolve, delay * (0.5 + Math.random())));
        delay = Math.min(delay * 2, 4000);
      }
    }
  }

  /**
   * The open channel, starting the kernel (or replacing a dead one) first if needed. `wanted` is asked
   * once it is this call's turn: a run whose kernel died while it waited must not start another one.
   */
  ensure(start: KernelStart, wanted: () => boolean = () => true): Promise<KernelConnection> {
    return this.serial(async () => {
      if (!wanted()) throw new DomainError('CONFLICT', 'Nothing waits for this kernel any more');
      if (this.channel && this.status !== 'dead') {
        this.wake();
        if (this.reason === BACK) this.setStatus(this.status, null);
        return this.channel;
      }
      if (this.kernelId && !this.channel && this.connectionLost) {
        // Only the websocket broke: the kernel may be fine, with its variables and buffered output.
        this.connectionLost = false;
        try {
          this.setStatus('starting', null);
          await this.attach(this.kernelId);
          this.setStatus('idle', null);
          return this.channel as unknown as KernelConnection;
        } catch (error) {
          const away = this.machine.reason;
          if (away) {
            // Not given up while its machine may come back: starting another would lose its variables.
            this.connectionLost = true;
            this.setStatus('reconnecting', away);
            throw new DomainError('CONFLICT', this.machine.runRefusal, { cause: describeFailure(error) });
          }
          this.setStatus('dead', 'The kernel could not be reached again');
        }
      }
      if (this.kernelId && this.status === 'dead') {
        const dead = this.kernelId;
        this.detach();
        this.kernelId = null;
        await this.gateway.shutdownKernel(dead).catch(() => undefined);
      }
      this.setStatus('starting', null);
      try {
        if (!this.kernelId) {
          const starting = new AbortController();
          this.starting = starting;
          const model = await this.gateway
            .startKernel(
              {
                ...(this.kernelName ? { name: this.kernelName } : {}),
                ...(start.resources ? { resources: start.resources } : {}),
                ...(start.env ? { env: start.env } : {}),
                ...(start.volumes?.length ? { volumes: start.volumes } : {}),
                ...(start.image ? { image: start.image } : {}),
              },
              {
                requestedById: start.requestedById,
                signal: starting.signal,
                onQueued: (queue) => {
                  this.queue = queue;
                  this.setStatus('queued', queue.reason, true);
                },
              },
            )
            .finally(() => {
              this.starting = null;
              this.queue = null;
            });
          this.kernelId = model.id;
          this.granted = model.granted ?? null;
          if (this.status === 'queued') this.setStatus('starting', null);
        }
        await this.attach(this.kernelId);
      } catch (error) {
        if (this.cancelled) {
          this.cancelled = false;
          this.setStatus('none', null);
        } else {
          this.setStatus('dead', `The kernel could not start: ${describeFailure(error)}`);
        }
        throw error;
      }
      this.setStatus('idle', null);
      return this.channel as KernelConnection;
    });
  }

  /** Gives up a start that waits for a machine; false when none does. */
  cancelStart(): boolean {
    if (this.status !== 'queued') return false;
    if (!this.starting) {
      // A hibernated kernel waiting for room to wake: the gateway reports its end (dead, with the reason).
      const kernelId = this.kernelId;
      if (!kernelId || !this.gateway.cancelQueued) return false;
      void this.gateway.cancelQueued(kernelId).catch(() => undefined);
      return true;
    }
    this.cancelled = true;
    this.starting.abort();
    return true;
  }

  /** Hibernates the kernel (variables kept) and shows why; false when there is no live kernel to pause. */
  pause(reason: string): Promise<boolean> {
    return this.serial(async () => {
      const kernelId = this.kernelId;
      if (!kernelId || !this.gateway.hibernateKernel) return false;
      if (this.status === 'dead' || this.status === 'none' || this.status === 'queued') return false;
      if (this.status !== 'paused') {
        // The gateway tells every client, this one included (which may hear it before the reply).
        const busy = this.status === 'busy';
        await this.gateway.hibernateKernel(kernelId, reason);
        this.pausedBusy = busy;
      }
      this.setStatus('paused', reason);
      return true;
    });
  }

  /** Why the gateway says Kiln paused the kernel, or null (not paused, or the gateway cannot say). */
  private async pausedOnGateway(kernelId: string): Promise<string | null> {
    const model = await this.gateway.getKernel?.(kernelId).catch(() => null);
    return model?.paused?.reason ?? null;
  }

  /** The gateway says the kernel was paused, possibly at another process's request: show it and why. */
  private pausedElsewhere(reason: string): void {
    if (this.status !== 'idle' && this.status !== 'busy' && this.status !== 'paused') return;
    if (this.status !== 'paused') this.pausedBusy = this.status === 'busy';
    this.setStatus('paused', reason);
    this.hooks.onPaused?.();
  }

  /**
   * Ends a pause: any message wakes a hibernated kernel, so a quiet kernel_info_request is sent (a cell
   * that was running when it was paused goes on, and the queue behind it can move).
   */
  wake(): void {
    if (this.status !== 'paused') return;
    this.setStatus(this.pausedBusy ? 'busy' : 'idle', null);
    if (!this.channel) return;
    this.quiet.send(this.channel, this.channel.message('shell', 'kernel_info_request', {}));
  }

  /**
   * The scheduler declared the kernel's machine lost, but it may come back with the kernel (a gateway
   * restart): what runs ends with `reason`, the kernel and its variables stay, and `back()` connects
   * again once the scheduler revives it (`lost()` once it gives it up). False when it is not this kernel.
   */
  away(kernelId: string, reason: string): boolean {
    if (this.kernelId !== kernelId) return false;
    const live = this.status !== 'dead' && this.status !== 'reconnecting';
    this.machine.away(reason);
    this.detach();
    this.connectionLost = true;
    this.setStatus('reconnecting', reason);
    if (live) this.hooks.onAway(reason);
    return true;
  }

  /** The kernel's machine came back with it: connects to it again (at its node's address now). */
  back(kernelId: string): Promise<boolean> {
    return this.serial(async () => {
      if (this.kernelId !== kernelId || this.machine.reason === null) return false;
      this.machine.end();
      if (!this.channel) {
        const result = await this.tryReattach(false);
        if (result === null) return false;
        if (result.outcome !== 'attached') {
          this.hooks.onLost(result.reason);
          return false;
        }
      }
      if (this.status === 'idle' || this.status === 'busy') this.setStatus(this.status, BACK);
      return true;
    });
  }

  /**
   * The scheduler declared this kernel lost: it is gone, and the next run starts another. Its container
   * is given up, so a node coming back with it stops it rather than keeping it for nobody.
   */
  lost(kernelId: string, reason: string): void {
    if (this.kernelId !== kernelId) return;
    this.machine.end();
    void this.gateway.shutdownKernel(kernelId).catch(() => undefined);
    this.detach();
    this.kernelId = null;
    this.granted = null;
    this.connectionLost = false;
    this.setStatus('dead', reason);
    this.hooks.onLost(reason);
  }

  /**
   * Tells the gateway every message up to `msgId` is stored, so it need not replay them (Kiln's
   * extension; a lost acknowledgement only means a replay, which the next attach trims by `lastStored`).
   */
  acknowledge(msgId: string): void {
    const channel = this.channel;
    if (!channel || !this.hooks.acknowledging) return;
    try {
      channel.send(channel.message('control', KILN_ACK, { msg_id: msgId }));
    } catch {
      // The socket is closing: the next attach says what is stored instead.
    }
  }

  /** Sends a message on the open channel (dropped if there is none: the kernel is gone). */
  send(message: JupyterMessage): void {
    this.channel?.send(message);
  }

  /**
   * Sends a shell request that changes nothing collaborators see (completion, inspection) and resolves
   * with its reply, or null when the kernel is not idle or does not answer within `timeoutMs`.
   */
  quietRequest(
    msgType: string,
    content: Record<string, unknown>,
    timeoutMs: number,
  ): Promise<JupyterMessage | null> {
    const channel = this.channel;
    if (!channel || this.status !== 'idle') return Promise.resolve(null);
    return this.quiet.ask(channel, channel.message('shell', msgType, content), timeoutMs);
  }

  message(
    channel: JupyterMessage['channel'],
    msgType: string,
    content: Record<string, unknown>,
  ): JupyterMessage {
    if (!this.channel) throw new Error('no kernel connection');
    return this.channel.message(channel, msgType, content);
  }

  async interrupt(): Promise<void> {
    await this.transition.catch(() => undefined);
    if (!this.kernelId || this.status === 'dead') return;
    await this.gateway.interruptKernel(this.kernelId).catch((error: unknown) => {
      throw asDomainError(error, 'The kernel could not be interrupted');
    });
  }

  /** Fresh interpreter in the same kernel (the gateway also revives a dead one). */
  restart(): Promise<void> {
    return this.serial(async () => {
      if (!this.kernelId) return;
      this.setStatus('restarting', null);
      try {
        await this.gateway.restartKernel(this.kernelId);
        if (!this.channel) await this.attach(this.kernelId);
      } catch (error) {
        this.setStatus('dead', `The kernel could not restart: ${describeFailure(error)}`);
        throw asDomainError(error, 'The kernel could not restart');
      }
      this.setStatus('idle', null);
    });
  }

  shutdown(): Promise<void> {
    return this.serial(async () => {
      const id = this.kernelId;
      this.detach();
      this.kernelId = null;
      this.granted = null;
      this.setStatus('none', null);
      // A kernel the gateway no longer knows (culled, gateway restarted) is as shut down as it gets.
      if (id) {
        await this.gateway.shutdownKernel(id).catch((error: unknown) => {
          if (!(error instanceof GatewayError && error.status === 404)) {
            throw asDomainError(error, 'The kernel could not be shut down');
          }
        });
      }
    });
  }

  private serial<T>(step: () => Promise<T>): Promise<T> {
    const next = this.transition.catch(() => undefined).then(step);
    this.transition = next;
    return next;
  }

  private async attach(kernelId: string): Promise<void> {
    const acknowledging = this.hooks.acknowledging;
    const channel = await this.gateway.connect(kernelId, {
      sessionId: this.sessionId,
      ...(acknowledging ? { ack: { lastStored: acknowledging.lastStored() } } : {}),
    });
    this.channel = channel;
    this.lastDeathReason = null;
    this.offMessage = channel.onMessage((message) =>
      acknowledging
        ? acknowledging.receive(message, () => this.fromKernel(message))
        : this.fromKernel(message),
    );
    void channel.closed.then(({ code, reason }) => {
      if (this.channel !== channel) return;
      const busy = this.status === 'busy';
      this.detach();
      if (this.status === 'restarting') return;
      // The gateway said the kernel died, and why (e.g. a volume it mounted was deleted): the socket
      // closing after that is no news, and the reason stays what the notebook shows.
      if (this.status === 'dead' && this.lastDeathReason !== null) return;
      this.connectionLost = true;
      if (code !== 1000 && code !== 1001 && this.status !== 'dead') {
        // The gateway restarted or the network dropped: the kernel may be alive with its output
        // buffered for this session, so try to get it back before telling anyone it is lost.
        void this.serial(async () => {
          if (this.channel || !this.connectionLost) return;
          const result = await this.tryReattach(busy);
          if (result === null) return;
          if (result.outcome !== 'attached') this.notReattached(result.reason);
          else this.hooks.onReattached?.();
        });
        return;
      }
      const why = `The connection to the kernel closed (${code}${reason ? `: ${reason}` : ''})`;
      this.setStatus('dead', why);
      this.hooks.onLost(why);
    });
  }

  private detach(): void {
    const channel = this.channel;
    this.channel = null;
    this.offMessage?.();
    this.offMessage = null;
    this.quiet.abandon();
    if (channel) void channel.close().catch(() => undefined);
  }

  private fromKernel(message: JupyterMessage): void {
    if (this.quiet.take(message)) return;
    if (message.channel === 'iopub') {
      const type = message.header.msg_type;
      if (type === 'error' && message.content.ename === 'KernelDied') {
        this.lastDeathReason = String(message.content.evalue ?? '') || null;
      }
      if (type === 'status') {
        const state = message.content.execution_state;
        const paused = pausedOf(message.content.kiln_paused);
        if (paused !== null) {
          this.pausedElsewhere(paused);
          return;
        }
        const waiting = queueOf(message.content.kiln_queue);
        if (waiting) {
          // A hibernated kernel whose room was taken waits in the scheduler's queue to wake.
          this.queue = waiting;
          this.setStatus('queued', waiting.reason, true);
          return;
        }
        if (this.status === 'queued' && !this.starting && (state === 'busy' || state === 'idle')) {
          this.queue = null;
          this.setStatus(state, null);
        }
        if (state === 'dead') {
          this.queue = null;
          this.hooks.onMessage(message);
          const why = this.lastDeathReason ?? 'The kernel died';
          this.setStatus('dead', why);
          this.hooks.onLost(why);
          return;
        }
        if (
          (state === 'busy' || state === 'idle') &&
          this.status !== 'restarting' &&
          this.status !== 'starting'
        ) {
          // "The kernel is back" stays until the next run.
          this.setStatus(state, this.reason === BACK ? BACK : null);
        }
      }
    }
    this.hooks.onMessage(message);
  }

  private setStatus(status: KernelStatus, reason: string | null, force = false): void {
    if (!force && this.status === status && this.reason === reason) return;
    this.status = status;
    this.reason = reason;
    this.hooks.onStatus();
  }
}

/** Kiln's queue place on a status message (a hibernated kernel waiting for room to wake), if valid. */
function queueOf(value: unknown): KernelQueueView | null {
  if (!value || typeof value !== 'object') return null;
  const { position, ahead, reason, deadline } = value as Record<string, unknown>;
  if (typeof position !== 'number' || typeof ahead !== 'number' || typeof reason !== 'string') return null;
  return { position, ahead, reason, deadline: typeof deadline === 'number' ? deadline : 0 };
}

/** Why the kernel was paused, from Kiln's `kiln_paused` on a status message, if valid. */
function pausedOf(value: unknown): string | null {
  if (!value || typeof value !== 'object') return null;
  const { reason } = value as Record<string, unknown>;
  return typeof reason === 'string' && reason !== '' ? reason : null;
}

import { randomUUID } from 'node:crypto';
import { DomainError, ERROR_STATUS, type ErrorCode, isDomainError } from '@kiln/core';
import { GatewayError, type JupyterMessage } from '@kiln/kernel-protocol/client';
import type {
  ExecutionGateway,
  KernelConnection,
  KernelGrant,
  KernelQueueView,
  KernelResources,
  KernelStatus,
} from './types.ts';

export interface KernelLinkHooks {
  /** Every message from the kernel (replies, iopub, stdin requests). */
  onMessage(message: JupyterMessage): void;
  /** The status or reason changed. */
  onStatus(): void;
  /** The kernel died or its connection broke; nothing more will come for what is running. */
  onLost(reason: string): void;
}

/** What re-attaching to a recorded kernel found. */
export type ReattachResult =
  | { outcome: 'attached'; reason: null }
  | { outcome: 'gone' | 'unreachable'; reason: string };

export interface KernelStart {
  resources?: KernelResources;
  env?: Record<string, string>;
  /** Applied to every text of the kernel's outputs before they are stored (masks secret values in `env`). */
  redact?: (text: string) => string;
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
  /** Replies awaited by `quietRequest`, by request msg_id. */
  private readonly replies = new Map<string, (reply: JupyterMessage | null) => void>();
  /** Ids of quiet requests; their busy/idle statuses must not flicker the kernel status collaborators see. */
  private readonly quiet = new Set<string>();

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
      if (result.outcome !== 'attached') this.hooks.onLost(result.reason);
      return result;
    });
  }

  /** Closes the websocket but leaves the kernel running (the web process stops; a later one re-attaches). */
  release(): Promise<void> {
    return this.serial(async () => this.detach());
  }

  private async tryReattach(busy: boolean): Promise<ReattachResult> {
    const kernelId = this.kernelId;
    if (!kernelId) return { outcome: 'gone', reason: 'No kernel was recorded' };
    this.setStatus('reconnecting', 'Reconnecting to the kernel…');
    const deadline = Date.now() + this.reattachMs;
    let delay = 250;
    for (;;) {
      try {
        await this.attach(kernelId);
        this.connectionLost = false;
        this.setStatus(busy ? 'busy' : 'idle', null);
        return { outcome: 'attached', reason: null };
      } catch (error) {
        const status = (error as { status?: unknown }).status;
        if (status === 404 || status === 403 || status === 410) {
          this.kernelId = null;
          this.connectionLost = false;
          const reason =
            'The kernel is gone: the kernel gateway no longer has it (it was restarted or the kernel stopped), so its variables are lost. Run the cell again to start a new kernel.';
          this.setStatus('dead', reason);
          return { outcome: 'gone', reason };
        }
        if (Date.now() + delay > deadline) {
          this.connectionLost = true;
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

  /** The open channel, starting the kernel (or replacing a dead one) first if needed. */
  ensure(start: KernelStart): Promise<KernelConnection> {
    return this.serial(async () => {
      if (this.channel && this.status !== 'dead') return this.channel;
      if (this.kernelId && !this.channel && this.connectionLost) {
        // Only the websocket broke: the kernel may be fine, with its variables and buffered output.
        this.connectionLost = false;
        try {
          this.setStatus('starting', null);
          await this.attach(this.kernelId);
          this.setStatus('idle', null);
          return this.channel as unknown as KernelConnection;
        } catch {
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
    if (!this.starting || this.status !== 'queued') return false;
    this.cancelled = true;
    this.starting.abort();
    return true;
  }

  /** The scheduler declared this kernel lost: it is gone, and the next run starts another. */
  lost(kernelId: string, reason: string): void {
    if (this.kernelId !== kernelId) return;
    this.detach();
    this.kernelId = null;
    this.granted = null;
    this.connectionLost = false;
    this.setStatus('dead', reason);
    this.hooks.onLost(reason);
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
    const request = channel.message('shell', msgType, content);
    const id = request.header.msg_id;
    this.quiet.add(id);
    // The idle status can come after the reply, so the last few hundred ids are remembered.
    if (this.quiet.size > 256) this.quiet.delete(this.quiet.values().next().value as string);
    return new Promise((resolve) => {
      const settle = (reply: JupyterMessage | null) => {
        clearTimeout(timer);
        this.replies.delete(id);
        resolve(reply);
      };
      const timer = setTimeout(() => settle(null), timeoutMs);
      this.replies.set(id, settle);
      channel.send(request);
    });
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
    const channel = await this.gateway.connect(kernelId, { sessionId: this.sessionId });
    this.channel = channel;
    this.lastDeathReason = null;
    this.offMessage = channel.onMessage((message) => this.fromKernel(message));
    void channel.closed.then(({ code, reason }) => {
      if (this.channel !== channel) return;
      const busy = this.status === 'busy';
      this.detach();
      if (this.status === 'restarting') return;
      this.connectionLost = true;
      if (code !== 1000 && code !== 1001 && this.status !== 'dead') {
        // The gateway restarted or the network dropped: the kernel may be alive with its output
        // buffered for this session, so try to get it back before telling anyone it is lost.
        void this.serial(async () => {
          if (this.channel || !this.connectionLost) return;
          const result = await this.tryReattach(busy);
          if (result.outcome !== 'attached') this.hooks.onLost(result.reason);
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
    for (const settle of [...this.replies.values()]) settle(null);
    if (channel) void channel.close().catch(() => undefined);
  }

  private fromKernel(message: JupyterMessage): void {
    const parent = message.parent_header.msg_id as string | undefined;
    // A death is reported under whatever request was current, a completion included: it must get through.
    if (parent && this.quiet.has(parent) && !isDeath(message)) {
      if (message.channel === 'shell') this.replies.get(parent)?.(message);
      return;
    }
    if (message.channel === 'iopub') {
      const type = message.header.msg_type;
      if (type === 'error' && message.content.ename === 'KernelDied') {
        this.lastDeathReason = String(message.content.evalue ?? '') || null;
      }
      if (type === 'status') {
        const state = message.content.execution_state;
        if (state === 'dead') {
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
          this.setStatus(state, null);
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

function isDeath(message: JupyterMessage): boolean {
  if (message.channel !== 'iopub') return false;
  const type = message.header.msg_type;
  return (
    (type === 'status' && message.content.execution_state === 'dead') ||
    (type === 'error' && message.content.ename === 'KernelDied')
  );
}

const UNREACHABLE =
  /fetch failed|ECONNREFUSED|ECONNRESET|EHOSTUNREACH|ETIMEDOUT|socket hang up|other side closed/i;

/**
 * A gateway failure as a person should read it: what happened and what to do, never a bare
 * `fetch failed`. Refusals the gateway explains itself (quota, GPU, bad request) keep its words.
 */
export function describeFailure(error: unknown): string {
  if (error instanceof GatewayError) {
    if (error.code || error.status < 500) return error.message;
    return `the kernel service failed (HTTP ${error.status}). Try again; if it keeps failing, the kernel gateway needs attention.`;
  }
  const chain = [error, (error as { cause?: unknown } | null)?.cause];
  const text = chain
    .map((e) => `${errorText(e)} ${String((e as { code?: unknown } | null)?.code ?? '')}`)
    .join(' ');
  if (UNREACHABLE.test(text) || (error as { status?: unknown } | null)?.status === 0) {
    return 'Kiln’s kernel service cannot be reached right now (it may be restarting). Try again in a few seconds; if it keeps failing, the kernel gateway needs attention.';
  }
  return errorText(error);
}

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Gateway failures as DomainErrors: the gateway's own code where it sent a known one. */
export function asDomainError(error: unknown, what: string): DomainError {
  if (isDomainError(error)) return error;
  if (error instanceof GatewayError) {
    const code = error.code && error.code in ERROR_STATUS ? (error.code as ErrorCode) : 'SANDBOX_FAILED';
    return new DomainError(code, `${what}: ${describeFailure(error)}`);
  }
  const described = describeFailure(error);
  // The gateway not answering is an outage (503, try again), not a failure of this request.
  const code = described === errorText(error) ? 'SANDBOX_FAILED' : 'SERVICE_UNAVAILABLE';
  return new DomainError(code, `${what}: ${described}`);
}

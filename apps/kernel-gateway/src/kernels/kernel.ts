import type { ImageSpec } from '@kiln/images';
import type { ExecutionState, KernelModel } from '@kiln/kernel-protocol';
import {
  createMessage,
  errorReply,
  errorText,
  KILN_ACK,
  KNOWN_REQUESTS,
  OUTPUT_TYPES,
} from '@kiln/kernel-protocol';
import type {
  ExitReason,
  JupyterMessage,
  KernelSandbox,
  ResourceRequest,
  TerminalPty,
} from '../sandbox/types.ts';
import { type HibernationHooks, KernelHibernation } from './kernel-hibernation.ts';
import { type KernelPeer, KernelPeers } from './kernel-peers.ts';
import { openKernelTerminal } from './kernel-terminal.ts';

export type { ExecutionState, KernelModel, KernelPeer };

export interface KernelOptions {
  id: string;
  name: string;
  workspaceId: string;
  resources: ResourceRequest;
  /** The workspace image it runs on; none: the base image. */
  image?: ImageSpec;
  sandbox: KernelSandbox;
  /** Starts a replacement sandbox when a dead kernel is restarted. */
  startSandbox: () => Promise<KernelSandbox>;
  /** Called when a client asks the kernel to shut itself down over the wire. */
  requestShutdown: () => void;
  outputBufferBytes: number;
  kernelInfoTimeoutMs: number;
  hibernationHooks?: HibernationHooks;
  /** A kernel whose sandbox this gateway re-adopted after the previous gateway process died. */
  adopted?: AdoptedKernelState;
  /** A client session attached (the restarted gateway buffers output for the last one). */
  onSession?: (sessionId: string) => void;
  /** Kiln paused the kernel (with why) or the pause ended (null): recorded so a restart keeps it asleep. */
  onPaused?: (reason: string | null) => Promise<void> | undefined;
}

/** What a re-adopted kernel starts from instead of a fresh start. */
export interface AdoptedKernelState {
  /**
   * A cell was still running when its agent reconnected; absent while the agent has not reconnected yet
   * (`reconnecting` says when it has).
   */
  busy?: boolean;
  /** Its sandbox is checkpointed to disk; the next message restores it. */
  hibernated: boolean;
  /** The session last attached before the restart: output is buffered for it until it reconnects. */
  sessionId: string | null;
  /** Why Kiln paused it (a spending cap), if it was paused rather than hibernated for idleness. */
  pausedReason?: string | null;
}

/** A running kernel: its lifecycle, and the messages between its sandbox and its clients (see KernelPeers). */
export class Kernel {
  readonly id: string;
  readonly name: string;
  readonly workspaceId: string;
  readonly resources: ResourceRequest;
  /** The workspace image it runs on (its build is in use while the kernel lives); none: the base image. */
  readonly image: ImageSpec | undefined;
  executionState: ExecutionState = 'starting';
  lastActivity = new Date();
  reason: string | undefined;
  private sandbox: KernelSandbox;
  private readonly peers: KernelPeers;
  private readonly internal = new Map<string, (reply: JupyterMessage) => void>();
  // Status messages caused by the gateway's own probes say nothing about the user's work.
  private readonly probeIds = new Set<string>();
  private currentRequest: Record<string, unknown> = {};
  private unsubscribe: Array<() => void> = [];
  private lifecycle: 'running' | 'restarting' | 'stopping' | 'stopped' = 'running';
  private readonly hibernation: KernelHibernation;
  private openTerminals = 0;
  /** Why Kiln paused the kernel: while set, a client attaching is told so and does not wake it. */
  private pausedReason: string | null = null;
  /** A re-adopted kernel's agent reconnecting: until it has, a restart waits for it. */
  private agent: Promise<unknown> | undefined;
  /** No status from the re-adopted agent yet: its hello says whether a cell runs. */
  private awaitingAgent = false;
  /** A re-adopted kernel whose agent did not come back: it is being stopped, never restarted. */
  private abandoned = false;

  constructor(private readonly options: KernelOptions) {
    this.id = options.id;
    this.name = options.name;
    this.workspaceId = options.workspaceId;
    this.resources = options.resources;
    this.image = options.image;
    this.sandbox = options.sandbox;
    this.peers = new KernelPeers(options.outputBufferBytes, options.adopted?.sessionId ?? null);
    this.hibernation = new KernelHibernation(
      () => this.sandbox,
      (error) =>
        this.die({ kind: 'crashed', message: `Could not wake from hibernation: ${errorText(error)}` }),
      options.hibernationHooks,
      options.adopted?.hibernated ? 'hibernated' : 'awake',
      // Kiln's extension of the status message: a client that knows it shows the place in the queue.
      (queue) =>
        this.peers.broadcast(
          createMessage('iopub', 'status', { execution_state: 'starting', kiln_queue: queue }),
        ),
    );
    if (options.adopted) {
      const { busy } = options.adopted;
      // Not known until the agent is back; `starting` keeps it from being culled or hibernated meanwhile.
      this.executionState = busy === undefined ? 'starting' : busy ? 'busy' : 'idle';
      this.awaitingAgent = busy === undefined;
      if (options.adopted.hibernated) this.pausedReason = options.adopted.pausedReason ?? null;
    }
    this.wire(this.sandbox);
  }

  /**
   * The re-adopted sandbox's agent is reconnecting: `agent` resolves with whether a cell runs, or rejects
   * with why it could not be taken back (clients are told; whoever re-adopted it stops the kernel).
   */
  reconnecting(agent: Promise<{ busy: boolean }>): void {
    this.agent = agent.then(
      ({ busy }) => {
        this.agent = undefined;
        if (!this.awaitingAgent) return;
        this.awaitingAgent = false;
        if (this.executionState === 'starting') this.executionState = busy ? 'busy' : 'idle';
      },
      (error: unknown) => this.abandon(error instanceof Error ? error.message : String(error)),
    );
  }

  /** A re-adopted kernel that could not be taken back: clients are told why, as of a kernel that died. */
  abandon(reason: string): void {
    this.abandoned = true;
    if (!this.isDead) this.die({ kind: 'crashed', message: reason });
  }

  get connections(): number {
    return this.peers.size;
  }

  /**
   * Requests sent to the kernel and not answered yet. A quiet execute (an endpoint call: no busy/idle
   * status from the agent) keeps the kernel `idle` while it runs; this says it is still at work.
   */
  get awaitingReplies(): number {
    return this.peers.awaitingReplies + this.internal.size;
  }

  get isDead(): boolean {
    return this.executionState === 'dead';
  }

  /** The sandbox hosting this kernel now (a restart of a dead kernel replaces it). */
  get currentSandbox(): KernelSandbox {
    return this.sandbox;
  }

  model(): KernelModel {
    const asleep = this.hibernation.asleep && !this.isDead;
    return {
      id: this.id,
      name: this.name,
      last_activity: this.lastActivity.toISOString(),
      execution_state: asleep ? 'hibernated' : this.executionState,
      connections: this.peers.size,
      ...(this.reason ? { reason: this.reason } : {}),
      resources: this.resources,
      started_from: this.sandbox.startedFrom,
      hibernation: this.hibernation.state,
      ...(asleep && this.pausedReason ? { paused: { reason: this.pausedReason } } : {}),
    };
  }

  /**
   * Whether the kernel may be checkpointed now: idle past `idleMs` (counted from its last activity
   * or its last wake-up), no cell running, no reply or output still owed, no terminal open in it.
   */
  canHibernate(idleMs: number, now = Date.now()): boolean {
    const since = Math.max(this.lastActivity.getTime(), this.hibernation.awakeSince.getTime());
    return (
      this.lifecycle === 'running' &&
      this.executionState === 'idle' &&
      !this.hibernation.asleep &&
      this.awaitingReplies === 0 &&
      this.openTerminals === 0 &&
      now - since >= idleMs
    );
  }

  /**
   * Checkpoints the sandbox to disk, freeing its memory; any later message wakes it. With a reason
   * (Kiln paused it), every client is told so on a status message, as with a place in the queue.
   */
  async hibernate(pausedBecause?: string): Promise<void> {
    await this.hibernation.hibernate();
    if (pausedBecause && this.hibernation.asleep) {
      // Stored before the caller hears "paused": a gateway restarting right after keeps it asleep.
      await this.setPaused(pausedBecause);
      this.peers.broadcast(this.pausedStatus(pausedBecause));
    }
  }

  /** Restores a hibernated kernel with its variables (ending a pause); resolves at once for an awake one. */
  wake(): Promise<void> {
    void this.setPaused(null);
    return this.hibernation.wake();
  }

  private pausedStatus(reason: string): JupyterMessage {
    return createMessage('iopub', 'status', { execution_state: 'idle', kiln_paused: { reason } });
  }

  /** Resolves once the pause (or its end) is recorded where a restarted gateway reads it. */
  private async setPaused(reason: string | null): Promise<void> {
    if (this.pausedReason === reason) return;
    this.pausedReason = reason;
    await this.options.onPaused?.(reason);
  }

  /**
   * Attaches a client; a client reusing a live session id replaces the old socket, and gets the replay.
   * Returns the peer to pass to `fromClient` and `detach` (an acknowledging client's sends are logged).
   */
  attach(client: KernelPeer): KernelPeer {
    const peer = this.peers.add(client);
    this.options.onSession?.(peer.sessionId);
    // A client opening the notebook is about to use the kernel: start restoring it now. Unless Kiln
    // paused it (a spending cap): a reconnect after a restart must not run and bill it again.
    const paused = this.hibernation.asleep ? this.pausedReason : null;
    if (!paused) void this.wake().catch(() => undefined);
    this.peers.replay(peer);
    if (paused) peer.send(this.pausedStatus(paused));
    if (this.isDead) peer.send(createMessage('iopub', 'status', { execution_state: 'dead' }));
    return peer;
  }

  detach(peer: KernelPeer): void {
    this.peers.detach(peer);
  }

  /** Handles one message from a client socket. */
  fromClient(peer: KernelPeer, message: JupyterMessage): void {
    const type = message.header.msg_type;
    if (type === KILN_ACK) {
      const msgId = message.content.msg_id;
      if (typeof msgId === 'string') this.peers.acknowledge(peer.sessionId, msgId);
      return;
    }
    if (message.channel === 'iopub' || !KNOWN_REQUESTS[message.channel]?.has(type)) {
      const evalue = `The gateway does not forward ${type} on the ${message.channel} channel`;
      const answer = errorReply(message, 'UnknownMessageType', evalue);
      if (answer.channel === 'iopub') answer.channel = 'shell';
      peer.send(answer);
      return;
    }
    if (type !== 'kernel_info_request') this.lastActivity = new Date();
    if (type === 'interrupt_request') {
      void this.interrupt().then(
        () => peer.send(createMessage('control', 'interrupt_reply', { status: 'ok' }, message.header)),
        (error: unknown) => peer.send(errorReply(message, 'InterruptFailed', String(error))),
      );
      return;
    }
    if (type === 'shutdown_request') {
      const restart = message.content.restart === true;
      peer.send(createMessage(message.channel, 'shutdown_reply', { status: 'ok', restart }, message.header));
      if (restart) void this.restart().catch(() => undefined);
      else this.options.requestShutdown();
      return;
    }
    if (this.isDead || this.lifecycle === 'stopped') {
      if (type.endsWith('_request')) {
        peer.send(errorReply(message, 'DeadKernel', this.reason ?? 'The kernel is not running'));
      }
      return;
    }
    if (type.endsWith('_request')) this.peers.expectReply(message.header.msg_id, peer.sessionId);
    if (type === 'execute_request') this.currentRequest = message.header;
    // Any message to the kernel wakes it, which ends a pause (the cap was lifted).
    void this.setPaused(null);
    this.hibernation.send(message);
  }

  /** Sends a request from the gateway itself and resolves with its reply. */
  request(
    channel: 'shell' | 'control',
    msgType: string,
    content: Record<string, unknown>,
    timeoutMs: number,
  ) {
    const message = createMessage(channel, msgType, content);
    return new Promise<JupyterMessage>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.internal.delete(message.header.msg_id);
        reject(new Error(`${msgType} got no reply within ${timeoutMs} ms`));
      }, timeoutMs);
      if (this.probeIds.size > 100) this.probeIds.clear();
      this.probeIds.add(message.header.msg_id);
      this.internal.set(message.header.msg_id, (reply) => {
        clearTimeout(timer);
        resolve(reply);
      });
      void this.setPaused(null);
      this.hibernation.send(message);
    });
  }

  /** Resolves once the kernel answers kernel_info, asking again every second as Jupyter Server does. */
  async waitReady(): Promise<void> {
    const deadline = Date.now() + this.options.kernelInfoTimeoutMs;
    for (;;) {
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(
          `The kernel did not answer kernel_info within ${this.options.kernelInfoTimeoutMs} ms`,
        );
      if (this.isDead) throw new Error(this.reason ?? 'The kernel died while starting');
      try {
        await this.request('shell', 'kernel_info_request', {}, Math.min(1000, left));
        if (this.executionState === 'starting' || this.executionState === 'restarting') {
          this.executionState = 'idle';
        }
        return;
      } catch {
        // No answer yet: the interpreter is still booting.
      }
    }
  }

  /** Interrupts the request running now; with `executionId`, only if that execute_request is it. */
  async interrupt(executionId?: string): Promise<void> {
    if (this.isDead) throw new Error(this.reason ?? 'The kernel is dead');
    await this.wake();
    if (this.isDead) throw new Error(this.reason ?? 'The kernel is dead');
    await this.sandbox.interrupt(executionId);
  }

  /** Fresh interpreter; a dead kernel gets a new sandbox. Resolves when the kernel answers kernel_info. */
  async restart(): Promise<void> {
    // A re-adopted kernel's sandbox is replaced only once it is known whether it was taken back.
    if (this.agent) await this.agent;
    if (this.abandoned || this.lifecycle === 'stopped')
      throw new Error(this.reason ?? 'The kernel was shut down');
    if (!this.isDead) await this.wake();
    this.lifecycle = 'restarting';
    this.executionState = 'restarting';
    this.lastActivity = new Date();
    this.peers.forgetRequests();
    try {
      if (this.reason !== undefined) {
        for (const off of this.unsubscribe) off();
        await this.sandbox.shutdown().catch(() => undefined);
        this.sandbox = await this.options.startSandbox();
        this.wire(this.sandbox);
      } else {
        await this.sandbox.restart();
      }
      this.reason = undefined;
      this.executionState = 'starting';
      this.lifecycle = 'running';
      await this.waitReady();
    } catch (error) {
      this.lifecycle = 'running';
      if (!this.isDead) this.die({ kind: 'crashed', message: `Restart failed: ${errorText(error)}` });
      throw error;
    }
  }

  /** Why the kernel was shut down, when whoever stopped it said (the scheduler records it). */
  stopReason: string | undefined;

  /** Stops the kernel; with `reason`, every client is told it died and why before its socket closes. */
  async shutdown(reason?: string): Promise<void> {
    if (this.lifecycle === 'stopped') return;
    this.lifecycle = 'stopping';
    this.executionState = 'terminating';
    for (const off of this.unsubscribe) off();
    // Deleting a sandbox mid-checkpoint or mid-restore would leave runsc state behind.
    await this.hibernation.stop();
    try {
      await this.sandbox.shutdown();
    } finally {
      this.lifecycle = 'stopped';
      if (reason && !this.isDead) this.die({ kind: 'killed', message: reason });
      this.executionState = 'dead';
      this.peers.closeAll('Kernel shut down');
    }
  }

  /** Opens a shell inside this kernel's sandbox (once it is awake); the kernel stays awake while it is open. */
  openTerminal(cols: number, rows: number): TerminalPty {
    const pty = openKernelTerminal({
      open: () => this.sandbox.openTerminal({ cols, rows }),
      ready: this.hibernation.asleep ? this.wake() : undefined,
      onClosed: () => {
        this.openTerminals -= 1;
        this.hibernation.awakeSince = new Date();
      },
    });
    this.openTerminals += 1;
    return pty;
  }

  private wire(sandbox: KernelSandbox): void {
    this.unsubscribe = [
      sandbox.onMessage((message) => this.fromKernel(message)),
      sandbox.onExit((reason) => {
        if (this.lifecycle === 'running') this.die(reason);
      }),
    ];
  }

  private fromKernel(message: JupyterMessage): void {
    const type = message.header.msg_type;
    const parentId = message.parent_header.msg_id as string | undefined;
    if (message.channel === 'iopub') {
      if (type === 'status') this.trackStatus(message);
      else if (OUTPUT_TYPES.has(type)) this.lastActivity = new Date();
      this.peers.broadcast(message);
      return;
    }
    if (parentId && this.internal.has(parentId)) {
      const resolve = this.internal.get(parentId);
      this.internal.delete(parentId);
      resolve?.(message);
      return;
    }
    this.peers.deliver(message);
  }

  private trackStatus(message: JupyterMessage): void {
    const state = message.content.execution_state;
    const parentId = message.parent_header.msg_id as string | undefined;
    if (parentId && this.probeIds.has(parentId)) {
      if (state === 'idle') this.probeIds.delete(parentId);
      return;
    }
    if (this.lifecycle !== 'running') return;
    if (state === 'busy' || state === 'idle' || state === 'starting') {
      // Newer than the agent's hello, which may be handled after it.
      this.awaitingAgent = false;
      this.executionState = state;
      if (state === 'busy') this.lastActivity = new Date();
    }
  }

  private die(reason: ExitReason): void {
    this.executionState = 'dead';
    this.reason = reason.message;
    this.peers.forgetRequests();
    const parent = this.currentRequest;
    this.peers.broadcast(
      createMessage(
        'iopub',
        'error',
        { ename: 'KernelDied', evalue: reason.message, traceback: [`The kernel died: ${reason.message}`] },
        parent,
      ),
    );
    this.peers.broadcast(createMessage('iopub', 'status', { execution_state: 'dead' }, parent));
  }
}

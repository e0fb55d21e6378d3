import { randomUUID } from 'node:crypto';
import { DomainError, isDomainError } from '@kiln/core';
import type { ImageSpec } from '@kiln/images';
import { errorText } from '@kiln/kernel-protocol';
import type { EnvSeal } from '../sandbox/env-seal.ts';
import type { KernelSandbox, ResourceRequest, SandboxDriver, VolumeMountSpec } from '../sandbox/types.ts';
import { type AdoptedKernelState, Kernel } from './kernel.ts';
import { type AdoptionResult, adoptKernels, GoneKernels } from './kernel-adoption.ts';
import type { HibernationHooks, WakeQueue } from './kernel-hibernation.ts';
import { type KernelRecord, KernelRecords } from './kernel-records.ts';

export interface KernelRegistryOptions {
  driver: SandboxDriver;
  /** Most kernels one workspace may have alive at once when no scheduler admits them (standalone). */
  maxKernelsPerWorkspace: number;
  /**
   * The scheduler's say over each kernel (a gateway that is a scheduler node): its id, resources and
   * GPUs come from the container the scheduler placed here, never from the request.
   */
  admission?: KernelAdmission;
  /** The operator's ceiling on one kernel, whoever decided its resources; warm spares are made from kernels. */
  maxResources: KernelMaximums;
  defaultResources: ResourceRequest;
  outputBufferBytes: number;
  kernelInfoTimeoutMs: number;
  /** Shut down kernels idle this long (0: never). */
  cullIdleMs: number;
  /** How often idle kernels are looked for (culling and hibernation). */
  cullIntervalMs: number;
  /** Cull idle kernels even while a client is connected (Jupyter's `cull_connected`). */
  cullConnected: boolean;
  /** Checkpoint kernels idle this long to disk, connected or not, until their next message (0: never). */
  hibernateIdleMs: number;
  /** Told when a kernel could not be checkpointed (it stays awake and is tried again after another idle period). */
  onHibernateFailed?: (kernel: Kernel, error: unknown) => void;
  /**
   * Where each kernel's record is kept (the gateway's state dir), so a gateway restarted after a crash
   * re-adopts the kernels whose sandboxes still run (`adopt()`); without it nothing is recorded.
   */
  recordDir?: string;
  /** Seals each kernel's env in its record; without it the env is not recorded. */
  envSeal?: EnvSeal;
}

export interface StartKernelRequest {
  name: string;
  env?: Record<string, string>;
  resources?: ResourceRequest;
  /** Named volumes the kernel mounts. */
  volumes?: VolumeMountSpec[];
  /** The scheduler's container this kernel runs as (required when the gateway is a scheduler node). */
  containerId?: string;
  /** The workspace image to run on; none: the base image. */
  image?: ImageSpec;
  /** Code the first sandbox should already have run (restored from a snapshot after it where one exists). */
  module?: { code: string };
}

/** The operator's ceiling on one kernel's CPU and memory. */
export interface KernelMaximums {
  cpu: number;
  memoryMiB: number;
}

/** What the scheduler decided for one kernel: the kernel's id is its container's id. */
export interface AdmittedKernel {
  id: string;
  resources: ResourceRequest;
  env?: Record<string, string>;
}

/** Hooks through which the scheduler node admits kernels and hears how their start went. */
export interface KernelAdmission {
  /** Throws a DomainError when the container is not this node's to start. */
  admit(workspaceId: string, request: StartKernelRequest): Promise<AdmittedKernel>;
  ready(kernel: Kernel): Promise<void>;
  failed(id: string, reason: string): Promise<void>;
  /** The kernel was checkpointed: its resources go back. */
  hibernated(id: string): Promise<void>;
  /**
   * Before it is restored: waits in the queue while its room on this node is taken (telling `queued`
   * where it stands), and throws when it cannot wake (cancelled, timed out, node lost).
   */
  resuming(id: string, queued: (queue: WakeQueue) => void): Promise<void>;
  resumed(id: string): Promise<void>;
}

type RemovedListener = (kernel: Kernel) => void;

/**
 * A kernel the scheduler placed here whose start is in flight: admitted (or being admitted) but not yet
 * registered. A shutdown meanwhile must not answer "no such kernel": whoever asked (deleting a volume
 * it mounts) would take that as gone and erase the disk the sandbox is about to mount.
 */
interface PendingStart {
  workspaceId: string;
  /** Why it was shut down while starting, or null. */
  stopReason: string | null;
  /** Tells the driver to give up starting the sandbox (it may finish anyway). */
  abort: AbortController;
  /** Resolves once the start has ended either way (its sandbox stopped if it was shut down). */
  settled: Promise<void>;
}

/** All kernels of this gateway, owned by workspaces; every lookup is scoped to one workspace. */
export class KernelRegistry {
  private readonly kernels = new Map<string, Kernel>();
  /** Kernels being started, per workspace, so a burst cannot pass the per-workspace limit. */
  private readonly starting = new Map<string, number>();
  /** Starts in flight by container id (see `PendingStart`). */
  private readonly pendingStarts = new Map<string, PendingStart>();
  private readonly removedListeners = new Set<RemovedListener>();
  private readonly sweepTimer: NodeJS.Timeout | undefined;
  private readonly records: KernelRecords | undefined;
  /** Kernels the previous gateway process left that could not be taken back, and why. */
  private readonly gone = new GoneKernels();

  constructor(private readonly options: KernelRegistryOptions) {
    this.records = options.recordDir ? new KernelRecords(options.recordDir, options.envSeal) : undefined;
    if (options.cullIdleMs > 0 || options.hibernateIdleMs > 0) {
      this.sweepTimer = setInterval(() => void this.sweep(), options.cullIntervalMs);
      this.sweepTimer.unref();
    }
  }

  onRemoved(listener: RemovedListener): () => void {
    this.removedListeners.add(listener);
    return () => this.removedListeners.delete(listener);
  }

  list(workspaceId: string): Kernel[] {
    return [...this.kernels.values()].filter((kernel) => kernel.workspaceId === workspaceId);
  }

  /** Every workspace's kernels (for the scheduler node's reconciliation). */
  all(): Kernel[] {
    return [...this.kernels.values()];
  }

  /** The workspace's kernel, or KERNEL_NOT_FOUND (also for another workspace's kernel). */
  get(workspaceId: string, id: string): Kernel {
    const kernel = this.kernels.get(id);
    const gone = kernel ? undefined : this.gone.reason(id, workspaceId);
    if (gone) throw new DomainError('KERNEL_GONE', gone);
    if (!kernel || kernel.workspaceId !== workspaceId) {
      throw new DomainError('KERNEL_NOT_FOUND', `Kernel does not exist: ${id}`);
    }
    return kernel;
  }

  get size(): number {
    return this.kernels.size;
  }

  async start(workspaceId: string, request: StartKernelRequest): Promise<Kernel> {
    // Tracked before admission: the admission's checks (its volumes still exist) then cover every
    // shutdown that could miss it, and every later shutdown finds it here.
    const tracked = request.containerId;
    if (tracked && (this.kernels.has(tracked) || this.pendingStarts.has(tracked)))
      throw new DomainError('CONFLICT', `Kernel ${tracked} already exists`);
    let settle = () => {};
    const pending: PendingStart = {
      workspaceId,
      stopReason: null,
      abort: new AbortController(),
      settled: new Promise<void>((resolve) => {
        settle = resolve;
      }),
    };
    if (tracked) this.pendingStarts.set(tracked, pending);
    try {
      return await this.admitAndLaunch(workspaceId, request, pending);
    } finally {
      if (tracked) this.pendingStarts.delete(tracked);
      settle();
    }
  }

  private async admitAndLaunch(
    workspaceId: string,
    request: StartKernelRequest,
    pending: PendingStart,
  ): Promise<Kernel> {
    const admission = this.options.admission;
    const admitted = admission
      ? await admission.admit(workspaceId, request)
      : this.admitStandalone(workspaceId, request);
    const { id, resources } = admitted;
    this.checkMaximums(resources);
    const env = admitted.env ? { ...request.env, ...admitted.env } : request.env;
    const stoppedWhileStarting = () =>
      new DomainError('KERNEL_GONE', `It was stopped while starting: ${pending.stopReason}`);
    try {
      if (pending.stopReason) throw stoppedWhileStarting();
      const kernel = await this.launch(
        workspaceId,
        id,
        request.name,
        resources,
        env,
        request.volumes,
        request.image,
        request.module,
        pending.abort.signal,
      );
      if (pending.stopReason) {
        await this.shutdown(workspaceId, id, pending.stopReason).catch(() => undefined);
        throw stoppedWhileStarting();
      }
      await admission?.ready(kernel);
      return kernel;
    } catch (error) {
      await admission?.failed(id, errorText(error)).catch(() => undefined);
      throw error;
    }
  }

  private hibernationHooks(id: string): HibernationHooks | undefined {
    const admission = this.options.admission;
    if (!admission) return undefined;
    return {
      asleep: () => admission.hibernated(id),
      waking: (queued) => admission.resuming(id, queued),
      awake: () => admission.resumed(id),
    };
  }

  private checkMaximums(resources: ResourceRequest): void {
    const max = this.options.maxResources;
    if (resources.cpu <= max.cpu && resources.memoryMiB <= max.memoryMiB) return;
    throw new DomainError(
      'QUOTA_EXCEEDED',
      `This gateway allows at most ${max.cpu} CPU and ${max.memoryMiB} MiB of memory per kernel (the operator's maximum); this asks for ${resources.cpu} CPU and ${resources.memoryMiB} MiB`,
      { limit: resources.cpu > max.cpu ? 'maxCpu' : 'maxMemoryMiB', max },
    );
  }

  /** Without a scheduler: a fresh id, the request's resources, and a per-workspace count. */
  private admitStandalone(workspaceId: string, request: StartKernelRequest): AdmittedKernel {
    const max = this.options.maxKernelsPerWorkspace;
    const alive = this.list(workspaceId).filter((kernel) => !kernel.isDead).length;
    if (alive + (this.starting.get(workspaceId) ?? 0) >= max) {
      throw new DomainError(
        'QUOTA_EXCEEDED',
        `This workspace already runs its limit of ${max} ${max === 1 ? 'kernel' : 'kernels'} on this gateway; shut one down and try again`,
        { limit: 'maxKernelsPerWorkspace', max },
      );
    }
    return { id: randomUUID(), resources: request.resources ?? this.options.defaultResources };
  }

  private async launch(
    workspaceId: string,
    id: string,
    name: string,
    resources: ResourceRequest,
    env: Record<string, string> | undefined,
    volumes?: VolumeMountSpec[],
    image?: ImageSpec,
    module?: { code: string },
    signal?: AbortSignal,
  ): Promise<Kernel> {
    if (this.kernels.has(id)) throw new DomainError('CONFLICT', `Kernel ${id} already exists`);
    const record: KernelRecord = {
      id,
      name,
      workspaceId,
      resources,
      ...(env ? { env } : {}),
      ...(volumes && volumes.length > 0 ? { volumes } : {}),
      ...(image ? { image } : {}),
      sandboxId: id,
      generation: 0,
      sessionId: null,
    };
    this.starting.set(workspaceId, (this.starting.get(workspaceId) ?? 0) + 1);
    let sandbox: KernelSandbox;
    try {
      sandbox = await this.startSandbox(record, module, signal);
    } finally {
      this.starting.set(workspaceId, (this.starting.get(workspaceId) ?? 1) - 1);
    }
    const kernel = this.createKernel(record, sandbox);
    try {
      await kernel.waitReady();
    } catch (error) {
      await this.shutdown(workspaceId, id).catch(() => undefined);
      throw new DomainError(
        'SANDBOX_FAILED',
        `The kernel started but never became ready: ${errorText(error)}`,
      );
    }
    return kernel;
  }

  /**
   * Starts the kernel's next sandbox. A replacement for a dead sandbox gets its own driver id: the driver
   * may still be tearing the old one down.
   */
  private async startSandbox(
    record: KernelRecord,
    module?: { code: string },
    signal?: AbortSignal,
  ): Promise<KernelSandbox> {
    const generation = record.generation++;
    const sandboxId = generation === 0 ? record.id : `${record.id}.${generation}`;
    const sandbox = await this.options.driver
      .start({
        kernelId: sandboxId,
        workspaceId: record.workspaceId,
        resources: record.resources,
        env: record.env,
        volumes: record.volumes,
        ...(record.image ? { image: record.image } : {}),
        // Only the first sandbox: a restart or replacement is a fresh interpreter, as Jupyter's is.
        ...(module ? { module } : {}),
        ...(signal ? { signal } : {}),
      })
      .catch((error) => {
        if (isDomainError(error)) throw error;
        throw new DomainError('SANDBOX_FAILED', `The kernel sandbox failed to start: ${errorText(error)}`);
      });
    record.sandboxId = sandboxId;
    void this.records?.save(record);
    return sandbox;
  }

  private createKernel(record: KernelRecord, sandbox: KernelSandbox, adopted?: AdoptedKernelState): Kernel {
    const { id, workspaceId } = record;
    const kernel = new Kernel({
      id,
      name: record.name,
      workspaceId,
      resources: record.resources,
      ...(record.image ? { image: record.image } : {}),
      sandbox,
      startSandbox: () => this.startSandbox(record),
      requestShutdown: () => void this.shutdown(workspaceId, id).catch(() => undefined),
      outputBufferBytes: this.options.outputBufferBytes,
      kernelInfoTimeoutMs: this.options.kernelInfoTimeoutMs,
      hibernationHooks: this.hibernationHooks(id),
      adopted,
      onSession: (sessionId) => {
        if (record.sessionId === sessionId || !this.kernels.has(id)) return;
        record.sessionId = sessionId;
        void this.records?.save(record);
      },
      onPaused: (reason) => {
        if (!this.kernels.has(id)) return undefined;
        record.pausedReason = reason;
        return this.records?.save(record);
      },
    });
    this.kernels.set(id, kernel);
    return kernel;
  }

  /**
   * Takes back the kernels a gateway process that died left behind (call once, before listening; it
   * does not wait for their agents): each whose sandbox still runs (or sleeps) exists at once and gets
   * its variables back when its agent reconnects; one whose agent does not within `agentTimeoutMs` is
   * stopped, and the rest at once. Asking for a stopped one answers KERNEL_GONE with the reason.
   * Sandboxes no record claims are stopped too.
   */
  adopt(
    options: { agentTimeoutMs?: number; onStopped?: (id: string, reason: string) => void } = {},
  ): Promise<AdoptionResult> {
    return adoptKernels({
      driver: this.options.driver,
      records: this.records,
      gone: this.gone,
      create: (record, sandbox, adopted) => this.createKernel(record, sandbox, adopted),
      abandon: async (record, kernel, reason) => {
        // Shut down (or replaced) meanwhile: nothing is left to stop.
        if (this.kernels.get(record.id) !== kernel) return;
        await this.abandon(kernel, reason);
      },
      agentTimeoutMs: options.agentTimeoutMs,
      onStopped: options.onStopped,
    });
  }

  /**
   * Stops a kernel that must not go on (its place was refused), with the reason: its clients see it in
   * the cell that was running, then lose the socket, and asking for it later answers KERNEL_GONE with it.
   */
  async abandon(kernel: Kernel, reason: string): Promise<void> {
    if (this.kernels.get(kernel.id) !== kernel) return;
    this.gone.remember(kernel, reason);
    kernel.abandon(reason);
    await this.shutdown(kernel.workspaceId, kernel.id);
  }

  /** Why a kernel the previous gateway process left was stopped, if it was. */
  goneReason(id: string): string | undefined {
    return this.gone.reason(id);
  }

  /**
   * Stops the kernel. With `reason`, its clients are told it died and why, the scheduler records that
   * reason, and asking for the kernel later answers KERNEL_GONE with it.
   */
  async shutdown(workspaceId: string, id: string, reason?: string): Promise<void> {
    const starting = this.kernels.has(id) ? undefined : this.pendingStarts.get(id);
    if (starting && starting.workspaceId === workspaceId) {
      // Answered once the start has ended, its sandbox stopped: nothing it mounts is in use after this.
      starting.stopReason ??= reason ?? 'Shut down';
      starting.abort.abort();
      await starting.settled;
      return;
    }
    const kernel = this.get(workspaceId, id);
    this.kernels.delete(id);
    if (reason) {
      kernel.stopReason = reason;
      this.gone.remember(kernel, reason);
    }
    for (const listener of this.removedListeners) listener(kernel);
    try {
      await kernel.shutdown(reason);
    } finally {
      await this.records?.remove(id);
    }
  }

  /** One pass of the idle timer: hibernate what has been idle a while, cull what has been idle for long. */
  async sweep(now = Date.now()): Promise<void> {
    if (this.options.hibernateIdleMs > 0) this.hibernateIdle(now);
    if (this.options.cullIdleMs > 0) await this.cull(now);
  }

  /** Starts checkpointing kernels idle past `hibernateIdleMs`; returns their ids (checkpoints finish later). */
  hibernateIdle(now = Date.now()): string[] {
    const sleeping: string[] = [];
    for (const kernel of this.kernels.values()) {
      if (!kernel.canHibernate(this.options.hibernateIdleMs, now)) continue;
      sleeping.push(kernel.id);
      kernel.hibernate().catch((error: unknown) => this.options.onHibernateFailed?.(kernel, error));
    }
    return sleeping;
  }

  /** Shuts down kernels idle past the configured time; Jupyter's rules (busy kernels are never culled). */
  async cull(now = Date.now()): Promise<string[]> {
    const culled: string[] = [];
    for (const kernel of [...this.kernels.values()]) {
      // A quiet call in flight leaves the state `idle`: its unanswered request keeps the kernel.
      const idle = (kernel.executionState === 'idle' && kernel.awaitingReplies === 0) || kernel.isDead;
      const connectedOk = this.options.cullConnected || kernel.connections === 0;
      if (idle && connectedOk && now - kernel.lastActivity.getTime() > this.options.cullIdleMs) {
        culled.push(kernel.id);
        await this.shutdown(kernel.workspaceId, kernel.id).catch(() => undefined);
      }
    }
    return culled;
  }

  async close(): Promise<void> {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    await Promise.all(
      [...this.kernels.values()].map((kernel) =>
        this.shutdown(kernel.workspaceId, kernel.id).catch(() => undefined),
      ),
    );
  }
}

import { randomUUID } from 'node:crypto';
import { DomainError, isDomainError } from '@kiln/core';
import type { KernelSandbox, ResourceRequest, SandboxDriver } from '../sandbox/types.ts';
import { Kernel } from './kernel.ts';
import type { HibernationHooks } from './kernel-hibernation.ts';

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
}

export interface StartKernelRequest {
  name: string;
  env?: Record<string, string>;
  resources?: ResourceRequest;
  /** The scheduler's container this kernel runs as (required when the gateway is a scheduler node). */
  containerId?: string;
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
  /** Before it is restored: throws when its room on this node is taken. */
  resuming(id: string): Promise<void>;
  resumed(id: string): Promise<void>;
}

type RemovedListener = (kernel: Kernel) => void;

/** All kernels of this gateway, owned by workspaces; every lookup is scoped to one workspace. */
export class KernelRegistry {
  private readonly kernels = new Map<string, Kernel>();
  /** Kernels being started, per workspace, so a burst cannot pass the per-workspace limit. */
  private readonly starting = new Map<string, number>();
  private readonly removedListeners = new Set<RemovedListener>();
  private readonly sweepTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: KernelRegistryOptions) {
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
    if (!kernel || kernel.workspaceId !== workspaceId) {
      throw new DomainError('KERNEL_NOT_FOUND', `Kernel does not exist: ${id}`);
    }
    return kernel;
  }

  get size(): number {
    return this.kernels.size;
  }

  async start(workspaceId: string, request: StartKernelRequest): Promise<Kernel> {
    const admission = this.options.admission;
    const admitted = admission
      ? await admission.admit(workspaceId, request)
      : this.admitStandalone(workspaceId, request);
    const { id, resources } = admitted;
    this.checkMaximums(resources);
    const env = admitted.env ? { ...request.env, ...admitted.env } : request.env;
    try {
      const kernel = await this.launch(workspaceId, id, request.name, resources, env);
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
      waking: () => admission.resuming(id),
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
  ): Promise<Kernel> {
    if (this.kernels.has(id)) throw new DomainError('CONFLICT', `Kernel ${id} already exists`);
    let generation = 0;
    // A replacement for a dead sandbox gets its own driver id: the driver may still be tearing the old one down.
    const startSandbox = (): Promise<KernelSandbox> =>
      this.options.driver
        .start({
          kernelId: generation++ === 0 ? id : `${id}.${generation}`,
          workspaceId,
          resources,
          env,
        })
        .catch((error) => {
          if (isDomainError(error)) throw error;
          throw new DomainError('SANDBOX_FAILED', `The kernel sandbox failed to start: ${errorText(error)}`);
        });
    this.starting.set(workspaceId, (this.starting.get(workspaceId) ?? 0) + 1);
    let sandbox: KernelSandbox;
    try {
      sandbox = await startSandbox();
    } finally {
      this.starting.set(workspaceId, (this.starting.get(workspaceId) ?? 1) - 1);
    }
    const kernel = new Kernel({
      id,
      name,
      workspaceId,
      resources,
      sandbox,
      startSandbox,
      requestShutdown: () => void this.shutdown(workspaceId, id).catch(() => undefined),
      outputBufferBytes: this.options.outputBufferBytes,
      kernelInfoTimeoutMs: this.options.kernelInfoTimeoutMs,
      hibernationHooks: this.hibernationHooks(id),
    });
    this.kernels.set(id, kernel);
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

  async shutdown(workspaceId: string, id: string): Promise<void> {
    const kernel = this.get(workspaceId, id);
    this.kernels.delete(id);
    for (const listener of this.removedListeners) listener(kernel);
    await kernel.shutdown();
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
      const idle = kernel.executionState === 'idle' || kernel.isDead;
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

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

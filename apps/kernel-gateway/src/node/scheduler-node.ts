import { DomainError, isDomainError } from '@kiln/core';
import type { ContainerView, GpuInventory, RegisterNodeInput, Scheduler } from '@kiln/scheduler';
import type { Kernel } from '../kernels/kernel.ts';
import type { AdmittedKernel, KernelAdmission, KernelRegistry } from '../kernels/kernel-registry.ts';

/** What this gateway tells the scheduler about itself (its id and URL once it listens). */
export interface NodeIdentity {
  cpu: number;
  memoryMiB: number;
  gpus: GpuInventory;
}

export interface SchedulerNodeOptions {
  scheduler: Scheduler;
  identity: NodeIdentity;
  /** Well under the scheduler's heartbeat timeout. */
  heartbeatMs: number;
  /** Memory this gateway uses outside kernels (warm spares), sent with every heartbeat. */
  reservedMemoryMiB?: () => number | Promise<number>;
  /** How often a kernel waiting to wake re-reads its place in the queue (default 2 s). */
  queueRefreshMs?: number;
  log?: (line: string) => void;
}

/** This gateway as a node of the scheduler: registration, heartbeats, and each kernel's container state. */
export interface SchedulerNode {
  /** Hand to `createGateway({ admission })`. */
  readonly admission: KernelAdmission;
  /**
   * Why this node must not serve a workspace's disk through the file API (it lives on another node, or
   * was deleted), or null: hand to `createGateway({ diskRefusal })`.
   */
  diskRefusal(workspaceId: string, volume: string): Promise<string | null>;
  /** Registers the node as `id` at `url` (once the gateway listens) and starts heartbeating. */
  start(where: { id: string; url: string }, kernels: KernelRegistry): Promise<void>;
  close(): Promise<void>;
}

const LIVE_STATES = new Set(['starting', 'running', 'hibernated']);

/**
 * Kernels on a scheduler node run only as containers the scheduler placed here: their id, CPU, memory
 * and GPUs come from the container row, so a request can never give itself more than its plan allows.
 */
export function createSchedulerNode(options: SchedulerNodeOptions): SchedulerNode {
  const { scheduler, identity } = options;
  const log = options.log ?? ((line: string) => console.log(`[kernel-gateway] ${line}`));
  let registration: RegisterNodeInput | null = null;
  let registry: KernelRegistry | null = null;
  /** Containers this gateway reported running; only those are stopped when their kernel goes away. */
  const running = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  let beating: Promise<void> | null = null;
  let closed = false;
  const pending = new Set<Promise<void>>();

  const ignoreFinal = (error: unknown) => {
    if (!(isDomainError(error) && (error.code === 'CONFLICT' || error.code === 'NOT_FOUND'))) throw error;
  };

  const admission: KernelAdmission = {
    async admit(workspaceId, request): Promise<AdmittedKernel> {
      if (!registration) throw new DomainError('CONFLICT', 'This gateway has not joined the scheduler yet');
      if (!request.containerId) {
        throw new DomainError(
          'BAD_REQUEST',
          'This gateway is a node of the Kiln scheduler: kernels are started through Kiln, which places them (containerId is required)',
        );
      }
      const view = await scheduler.get(request.containerId);
      // Another workspace's container looks like no container at all.
      if (view.workspaceId !== workspaceId) throw new DomainError('NOT_FOUND', `No container ${view.id}`);
      // Endpoint replicas are kernels too: the web app imports the endpoint's module into one and calls it.
      if (view.kind !== 'kernel' && view.kind !== 'endpoint_replica')
        throw new DomainError('BAD_REQUEST', `Container ${view.id} is not a kernel or an endpoint replica`);
      if (view.node?.id !== registration.id) {
        throw new DomainError(
          'CONFLICT',
          `Container ${view.id} is placed on ${view.node?.id ?? 'no node'}, not on ${registration.id}`,
        );
      }
      if (view.state !== 'starting') {
        throw new DomainError('CONFLICT', `Container ${view.id} is ${view.state}, not waiting to start`);
      }
      // Read after the registry began tracking this start: a volume deleted from here on finds the start
      // (its deletion waits for it to stop); one deleted before must not be mounted, its disk may be
      // being erased.
      if ((await scheduler.deletedMounts(view.id)).length > 0) {
        const reason =
          'A volume this kernel mounts was deleted while it was starting; run a cell to start a new kernel without it';
        // Its room goes back, and the deletion's erase need not wait for it.
        await scheduler.stop(view.id, { code: 'start_failed', reason }).catch(ignoreFinal);
        throw new DomainError('CONFLICT', reason, { reason: 'volume_deleted' });
      }
      return { id: view.id, ...grantedResources(view) };
    },
    async ready(kernel) {
      await scheduler.markRunning(kernel.id);
      running.add(kernel.id);
    },
    async failed(id, reason) {
      running.delete(id);
      await scheduler.stop(id, { code: 'start_failed', reason }).catch(ignoreFinal);
    },
    async hibernated(id) {
      await scheduler
        .hibernate(id)
        .then(() => undefined, ignoreFinal)
        .catch((error: unknown) => log(`could not record that kernel ${id} hibernated: ${String(error)}`));
    },
    async resuming(id, queued) {
      // Its CPU, memory and GPUs may have gone to another container meanwhile: then it waits in the queue
      // for room on this node (its checkpoint is here), and the notebook sees where it stands.
      let view = await scheduler.resume(id, { whenBusy: 'queue' });
      while (view.state === 'queued') {
        if (view.queue) queued({ ...view.queue, deadline: view.queue.deadline.getTime() });
        const tick = AbortSignal.timeout(options.queueRefreshMs ?? 2000);
        try {
          view = await scheduler.waitForPlacement(id, { signal: tick });
        } catch (error) {
          if (!tick.aborted) throw error;
          view = await scheduler.get(id);
        }
      }
      if (view.state !== 'starting') {
        const why = view.stop?.reason ?? `its container is ${view.state}`;
        throw new DomainError('CONFLICT', `It waited for room on this machine and did not get it: ${why}`);
      }
    },
    async resumed(id) {
      await scheduler.markRunning(id);
    },
  };

  function removed(kernel: Kernel): void {
    if (!running.delete(kernel.id)) return;
    const options = kernel.isDead
      ? { code: 'exited' as const, reason: kernel.reason ?? 'The kernel exited' }
      : { code: 'stopped' as const, reason: kernel.stopReason ?? 'Shut down' };
    const stopping = scheduler
      .stop(kernel.id, options)
      .then(() => undefined, ignoreFinal)
      .catch((error: unknown) => log(`could not record that kernel ${kernel.id} stopped: ${String(error)}`));
    pending.add(stopping);
    void stopping.finally(() => pending.delete(stopping));
  }

  /** Registers (again) and makes both sides agree on what runs here. */
  async function register(): Promise<void> {
    if (!registration) return;
    const here = new Map((registry?.all() ?? []).map((kernel) => [kernel.id, kernel]));
    // The kernels it runs (re-adopted after a restart): lost ones come back, unless their room is gone.
    const { node, containers, refused } = await scheduler.registerNode({
      ...registration,
      alive: [...here.keys()],
    });
    const believed = new Set(containers.filter((c) => LIVE_STATES.has(c.state)).map((c) => c.id));
    const refusedReason = new Map(refused.map((r) => [r.id, r.reason]));
    for (const container of containers) {
      if (here.has(container.id) || !LIVE_STATES.has(container.state)) continue;
      // Lost with the process that ran it (a crash): billed up to its last heartbeat, not until now.
      await scheduler
        .stop(container.id, {
          code: 'node_lost',
          reason:
            registry?.goneReason(container.id) ?? `Node ${node.id} restarted and no longer runs this kernel`,
        })
        .catch(ignoreFinal);
    }
    // Kernels this gateway re-adopted after a restart are its to report stopped, like any it started.
    for (const id of here.keys()) if (believed.has(id)) running.add(id);
    // Kernels that could not have their place back (their resources went to others meanwhile, or they
    // were given up): stopped, and their notebooks told why.
    for (const kernel of here.values()) {
      if (believed.has(kernel.id)) continue;
      running.delete(kernel.id);
      const reason =
        refusedReason.get(kernel.id) ??
        `Node ${node.id} was away too long: this kernel had been given up, so it was stopped and its variables are lost. Run the cell again to start a new kernel.`;
      await registry?.abandon(kernel, reason).catch(() => undefined);
      log(`stopped kernel ${kernel.id}: ${reason}`);
    }
    const revived = [...here.keys()].filter((id) => believed.has(id)).length;
    if (revived > 0) log(`node ${node.id} kept ${revived} kernel${revived === 1 ? '' : 's'} it re-adopted`);
    const gpus = node.gpus.map((gpu) => gpu.type ?? gpu.productName).join(', ') || 'no GPUs';
    log(
      `node ${node.id} registered at ${node.url}: ${node.cpu} CPU, ${node.memoryMiB} MiB, ${gpus} (${node.gpuSource}${node.gpuNote ? `: ${node.gpuNote}` : ''})`,
    );
  }

  async function beat(): Promise<void> {
    try {
      if (registration)
        await scheduler.heartbeat(registration.id, {
          reservedMemoryMiB: (await options.reservedMemoryMiB?.()) ?? 0,
        });
    } catch (error) {
      if (closed) return;
      if (isDomainError(error) && (error.code === 'CONFLICT' || error.code === 'NOT_FOUND')) {
        log(`node ${registration?.id} was marked lost; registering again`);
        await register();
      } else {
        log(`heartbeat failed: ${String(error)}`);
      }
    }
  }

  return {
    admission,
    async diskRefusal(workspaceId, volume) {
      if (!registration) return 'This gateway has not joined the scheduler yet';
      return scheduler.diskRefusal(workspaceId, volume, registration.id);
    },
    async start(where, kernels) {
      registration = { ...identity, ...where };
      registry = kernels;
      kernels.onRemoved(removed);
      await register();
      timer = setInterval(() => {
        if (beating) return;
        beating = beat()
          .catch((error: unknown) => log(`registering again failed: ${String(error)}`))
          .finally(() => {
            beating = null;
          });
      }, options.heartbeatMs);
      timer.unref();
    },
    async close() {
      closed = true;
      if (timer) clearInterval(timer);
      await beating;
      await Promise.all(pending);
    },
  };
}

/** What the scheduler granted: the container's CPU and memory, and exactly its GPUs (or none). */
function grantedResources(view: ContainerView): Omit<AdmittedKernel, 'id'> {
  const { cpu, memoryMiB } = view.requested;
  if (!view.gpu) return { resources: { cpu, memoryMiB, gpu: null } };
  return {
    resources: { cpu, memoryMiB, gpu: `${view.gpu.type}:${view.gpu.count}` },
    env: { CUDA_VISIBLE_DEVICES: view.gpu.indices.join(',') },
  };
}

import { DomainError, isDomainError } from '@kiln/core';
import type { ExecutionGateway, KernelGrant, StartKernelOptions } from '@kiln/execution';
import { createGatewayClient, GatewayError, workspaceToken } from '@kiln/kernel-protocol/client';
import type { ContainerView, Scheduler } from '@kiln/scheduler';

export interface ScheduledGatewayOptions {
  scheduler: Scheduler;
  /** The gateways' shared secret; only workspace-scoped tokens minted from it leave this process. */
  secret: string;
  /** A kernel's resources when the notebook names none. */
  defaults: { cpu: number; memoryMiB: number };
  /** How often a waiting kernel's place in the queue is refreshed. */
  queueRefreshMs?: number;
}

const FINAL = new Set(['stopped', 'lost']);

/**
 * Kernels placed by the scheduler: each start becomes a container (queued until some node has room),
 * then runs on the chosen node's gateway, which every later call for that kernel goes to.
 */
export function createScheduledGateways(options: ScheduledGatewayOptions) {
  const { scheduler } = options;
  const refreshMs = options.queueRefreshMs ?? 1000;
  const nodeOf = new Map<string, string>();

  /** The kernel's container, if it belongs to `workspaceId` (another workspace's looks like none). */
  async function containerOf(workspaceId: string, kernelId: string): Promise<ContainerView> {
    const view = await scheduler.get(kernelId).catch(() => null);
    if (!view || view.workspaceId !== workspaceId || !view.node) {
      throw new DomainError('KERNEL_NOT_FOUND', `Kernel does not exist: ${kernelId}`);
    }
    return view;
  }

  async function nodeUrl(workspaceId: string, kernelId: string): Promise<string> {
    const known = nodeOf.get(kernelId);
    if (known) return known;
    const url = (await containerOf(workspaceId, kernelId)).node?.url as string;
    nodeOf.set(kernelId, url);
    return url;
  }

  /** Waits while the container is queued, reporting its place; gives it up when the caller aborts. */
  async function placed(view: ContainerView, start: StartKernelOptions): Promise<ContainerView> {
    let current = view;
    while (current.state === 'queued') {
      if (current.queue) start.onQueued?.({ ...current.queue, deadline: current.queue.deadline.getTime() });
      const tick = AbortSignal.timeout(refreshMs);
      const signal = start.signal ? AbortSignal.any([tick, start.signal]) : tick;
      try {
        current = await scheduler.waitForPlacement(current.id, { signal });
      } catch (error) {
        if (start.signal?.aborted) break;
        if (!tick.aborted) throw error;
        current = await scheduler.get(current.id);
      }
    }
    if (start.signal?.aborted) {
      const reason = 'Cancelled while waiting for a machine';
      await scheduler
        .cancel(current.id, { reason })
        .catch(() => scheduler.stop(current.id, { reason }))
        .catch(() => undefined);
      throw new DomainError('CONFLICT', reason);
    }
    return current;
  }

  return (workspaceId: string, notebookId: string): ExecutionGateway => {
    const token = workspaceToken(options.secret, workspaceId);
    const client = (baseUrl: string) => createGatewayClient({ baseUrl, token });
    return {
      async startKernel(body = {}, start = {}) {
        const requested = await scheduler.request({
          workspaceId,
          kind: 'kernel',
          ownerId: notebookId,
          requestedById: start.requestedById ?? null,
          resources: { ...options.defaults, ...body.resources },
          // Volumes and /workspace never move between nodes: the scheduler runs it where they are.
          ...(body.volumes?.length ? { volumes: body.volumes.map((volume) => volume.id) } : {}),
          mountsWorkspace: true,
        });
        const view = await placed(requested, start);
        if (view.state !== 'starting' || !view.node) {
          throw new DomainError(
            'GPU_UNAVAILABLE',
            view.stop?.reason ?? `The kernel could not be placed (${view.state})`,
          );
        }
        nodeOf.set(view.id, view.node.url);
        try {
          const model = await client(view.node.url).startKernel({ ...body, containerId: view.id });
          return { ...model, granted: granted(view) };
        } catch (error) {
          nodeOf.delete(view.id);
          // An unreachable node could not record the failure; the container must not keep its room.
          const reason = error instanceof Error ? error.message : String(error);
          await scheduler.stop(view.id, { code: 'start_failed', reason }).catch(() => undefined);
          throw error;
        }
      },
      interruptKernel: async (id) => client(await nodeUrl(workspaceId, id)).interruptKernel(id),
      restartKernel: async (id) => client(await nodeUrl(workspaceId, id)).restartKernel(id),
      hibernateKernel: async (id, reason) =>
        client(await nodeUrl(workspaceId, id)).hibernateKernel(id, reason),
      getKernel: async (id) => client(await nodeUrl(workspaceId, id)).getKernel(id),
      async shutdownKernel(id) {
        const view = await containerOf(workspaceId, id).catch(() => null);
        nodeOf.delete(id);
        // Given up: should its node come back with it, the node stops it.
        if (view?.state === 'lost') {
          const reason = `${view.stop?.reason ?? 'Lost'}; its notebook gave it up`;
          await scheduler.stop(id, { code: 'node_lost', reason }).catch(() => undefined);
          return;
        }
        // A stopped container's node may be gone: there is nothing left to shut down.
        if (!view?.node || FINAL.has(view.state)) return;
        try {
          await client(view.node.url).shutdownKernel(id);
        } catch (error) {
          if (!(error instanceof GatewayError && error.status === 404)) throw error;
        } finally {
          await scheduler.stop(id, { reason: 'Shut down' }).catch((error: unknown) => {
            if (!isDomainError(error)) throw error;
          });
        }
      },
      // Looked up afresh: a connect follows a dropped connection, and a gateway that restarted (its
      // kernels revived) may listen at another address.
      async connect(id, channel) {
        nodeOf.delete(id);
        return client(await nodeUrl(workspaceId, id)).connect(id, channel);
      },
      async cancelQueued(id) {
        await containerOf(workspaceId, id);
        await scheduler.cancel(id, { reason: 'Cancelled while waiting for a machine' });
      },
    };
  };
}

/** What the container got: its CPU and memory, and its GPUs or none. */
function granted(view: ContainerView): KernelGrant {
  return {
    cpu: view.requested.cpu,
    memoryMiB: view.requested.memoryMiB,
    gpu: view.gpu
      ? { type: view.gpu.type, count: view.gpu.count, declared: view.gpu.source === 'declared' }
      : null,
    node: view.node?.id ?? null,
  };
}

import { PLANS, type PlanTier } from '@kiln/billing';
import { DomainError, isUuid } from '@kiln/core';
import type { Db } from '@kiln/db';
import { parseContainerRequest } from './container-request.ts';
import type { OperatorMaximums, SchedulerPlanLimits, WorkspaceUsage } from './policy/limits.ts';
import { DEFAULT_SCHEDULER_OPTIONS, type SchedulerOptions } from './scheduler-options.ts';
import { type Assessment, assess } from './store/assess.ts';
import * as containers from './store/containers.ts';
import type { StoreContext } from './store/context.ts';
import { type EventPage, eventsAfter } from './store/events.ts';
import * as nodes from './store/nodes.ts';
import { drainQueue, expireQueue } from './store/queue.ts';
import type { RefusedRevival } from './store/revive.ts';
import * as revive from './store/revive.ts';
import { queueStatuses, toContainerView, WITH_NODE } from './store/views.ts';
import { diskRefusal, type VolumeNode, volumeNode, workspaceDiskNode } from './store/volumes.ts';
import { workspaceUsage } from './store/workspaces.ts';
import type {
  ContainerRequest,
  ContainerState,
  ContainerTransition,
  ContainerView,
  NodeView,
  StopCode,
} from './types.ts';

export interface ContainerFilter {
  workspaceId?: string;
  ownerId?: string;
  nodeId?: string;
  states?: ContainerState[];
}

export interface Scheduler {
  /** Admits a container: `starting` on a node, or `queued` with its position. Throws QUOTA_EXCEEDED etc. */
  request(input: ContainerRequest): Promise<ContainerView>;
  /** Resolves once the container has left the queue (placed, cancelled or timed out). */
  waitForPlacement(id: string, options?: { signal?: AbortSignal }): Promise<ContainerView>;
  markRunning(id: string): Promise<ContainerView>;
  hibernate(id: string): Promise<ContainerView>;
  resume(
    id: string,
    options?: { whenBusy?: 'queue' | 'refuse'; queueTimeoutMs?: number },
  ): Promise<ContainerView>;
  stop(
    id: string,
    options?: { code?: 'stopped' | 'exited' | 'start_failed' | 'node_lost'; reason?: string },
  ): Promise<ContainerView>;
  cancel(id: string, options?: { reason?: string }): Promise<ContainerView>;
  get(id: string): Promise<ContainerView>;
  list(filter?: ContainerFilter): Promise<ContainerView[]>;
  /**
   * What a request for `resources` (mounting `volumes`) would get now (placed, queued and why, or
   * refused and why), without making it.
   */
  assess(
    workspaceId: string,
    resources: unknown,
    options?: { volumes?: string[]; mountsWorkspace?: boolean },
  ): Promise<Assessment>;
  /** What a workspace holds against its plan, and the plan's limits. */
  usage(workspaceId: string): Promise<{ plan: PlanTier; used: WorkspaceUsage; limits: SchedulerPlanLimits }>;
  /**
   * Adds or renews a node. `containers`: what the scheduler believes runs there; `refused`: containers
   * it reported alive (`input.alive`) that were lost and could not come back, which it must stop.
   */
  registerNode(
    input: nodes.RegisterNodeInput,
  ): Promise<{ node: NodeView; containers: ContainerView[]; refused: RefusedRevival[] }>;
  /** The node is alive; `report` updates what it holds outside containers (warm spares). */
  heartbeat(nodeId: string, report?: nodes.NodeReport): Promise<void>;
  detectLostNodes(): Promise<{ nodes: string[]; containers: ContainerTransition[] }>;
  /** Lost containers no node brought back within `lostGiveUpMs`, now stopped. */
  giveUpLost(): Promise<ContainerTransition[]>;
  listNodes(): Promise<NodeView[]>;
  /**
   * The node whose disk holds a workspace's named volume (kernels that mount it run only there); a
   * volume nothing has used yet is given the longest-registered active node. Null when none is online.
   */
  volumeNode(workspaceId: string, volumeId: string): Promise<VolumeNode | null>;
  /**
   * The node whose disk holds a workspace's /workspace folder (containers that mount it run only there);
   * a workspace nothing has used yet is given the longest-registered active node. Null when none is online.
   */
  workspaceDiskNode(workspaceId: string): Promise<VolumeNode | null>;
  /**
   * The named volumes container `id` mounts that were deleted since it was placed: a node must not
   * start it then, since the deletion may already be erasing their disks.
   */
  deletedMounts(id: string): Promise<string[]>;
  /** Why node `nodeId` must not serve a workspace's disk (`workspace` or a volume id), or null (see `diskRefusal`). */
  diskRefusal(workspaceId: string, volume: string, nodeId: string): Promise<string | null>;
  drainQueue(): Promise<ContainerTransition[]>;
  expireQueue(): Promise<ContainerTransition[]>;
  /**
   * Lost-node detection, giving up long-lost containers, queue timeouts and a queue pass: what every web
   * process runs on an interval.
   */
  tick(): Promise<void>;
  eventsAfter(cursor: string | null, limit?: number): Promise<EventPage>;
  /** Waits for a running queue pass and for hooks still being called. */
  close(): Promise<void>;
}

/** Creates the scheduler over the database; options are spread over `DEFAULT_SCHEDULER_OPTIONS`. */
export function createScheduler(options: Partial<SchedulerOptions> & { db: Db }): Scheduler {
  const settings: SchedulerOptions = { ...DEFAULT_SCHEDULER_OPTIONS, ...options };
  const plans = { ...PLANS } as Record<PlanTier, SchedulerPlanLimits>;
  for (const tier of Object.keys(plans) as PlanTier[])
    plans[tier] = { ...PLANS[tier], ...settings.plans[tier] };
  const operator: OperatorMaximums = {
    maxCpuPerContainer: settings.maxCpuPerContainer,
    maxMemoryMiBPerContainer: settings.maxMemoryMiBPerContainer,
  };
  const ctx: StoreContext = {
    db: settings.db,
    plans,
    operator,
    queueTimeoutMs: settings.queueTimeoutMs,
    heartbeatTimeoutMs: settings.heartbeatTimeoutMs,
    transactionTimeoutMs: settings.transactionTimeoutMs,
  };
  const waiters = new Set<() => void>();
  // Requests for one workspace wait for its row lock in turn anyway; waiting here instead keeps a burst
  // (an endpoint scaling out) from holding every pooled connection while it waits.
  const workspaceTurns = new Map<string, Promise<unknown>>();
  function inWorkspaceTurn<T>(workspaceId: string, work: () => Promise<T>): Promise<T> {
    const previous = workspaceTurns.get(workspaceId) ?? Promise.resolve();
    const turn = previous.then(work, work);
    const settled = turn.then(
      () => undefined,
      () => undefined,
    );
    workspaceTurns.set(workspaceId, settled);
    void settled.then(() => {
      if (workspaceTurns.get(workspaceId) === settled) workspaceTurns.delete(workspaceId);
    });
    return turn;
  }
  let emitting = Promise.resolve();

  /** Hooks run after commit, one at a time, so each container's changes arrive in order. */
  function emit(transitions: ContainerTransition[]): void {
    if (transitions.length === 0) return;
    for (const wake of waiters) wake();
    const hook = settings.onTransition;
    if (!hook) return;
    emitting = emitting.then(async () => {
      for (const transition of transitions) {
        try {
          await hook(transition);
        } catch (error) {
          settings.onError(error);
        }
      }
    });
  }

  let draining: Promise<ContainerTransition[]> | null = null;
  let again = false;
  /** Queue passes in this process run one at a time; a request for one during a pass runs one more after. */
  function drain(): Promise<ContainerTransition[]> {
    if (draining) {
      again = true;
      return draining;
    }
    draining = (async () => {
      const placed: ContainerTransition[] = [];
      try {
        do {
          again = false;
          const pass = await drainQueue(ctx);
          emit(pass);
          placed.push(...pass);
        } while (again);
      } finally {
        draining = null;
      }
      return placed;
    })();
    return draining;
  }

  async function view(id: string): Promise<ContainerView> {
    if (!isUuid(id)) throw new DomainError('NOT_FOUND', `No container ${id}`);
    const row = await settings.db.container.findUnique({ where: { id }, include: WITH_NODE });
    if (!row) throw new DomainError('NOT_FOUND', `No container ${id}`);
    const queue = row.state === 'queued' ? ((await queueStatuses(settings.db)).get(id) ?? null) : null;
    return toContainerView(row, queue);
  }

  async function detectLostNodes() {
    const result = await nodes.detectLostNodes(ctx);
    emit(result.transitions);
    if (result.transitions.length > 0) await drain().catch(settings.onError);
    return { nodes: result.nodes, containers: result.transitions };
  }

  async function giveUpLost() {
    const given = await revive.giveUpLost(ctx, settings.lostGiveUpMs);
    emit(given);
    return given;
  }

  async function expireAll() {
    const expired = await expireQueue(ctx);
    emit(expired);
    return expired;
  }

  async function written(result: containers.Written, frees = false): Promise<ContainerView> {
    emit(result.transitions);
    if (frees && result.transitions.length > 0) await drain().catch(settings.onError);
    return view(result.id);
  }

  return {
    async request(input) {
      const checked = parseContainerRequest(input);
      const result = await inWorkspaceTurn(checked.workspaceId, () =>
        containers.createContainer(ctx, {
          workspaceId: checked.workspaceId,
          kind: checked.kind,
          ownerId: checked.ownerId,
          requestedById: checked.requestedById ?? null,
          request: checked.resources,
          volumeIds: checked.volumes ?? [],
          mountsWorkspace: checked.mountsWorkspace ?? false,
          whenBusy: checked.whenBusy ?? 'queue',
          queueTimeoutMs: checked.queueTimeoutMs ?? settings.queueTimeoutMs,
        }),
      );
      const queued = result.transitions.some((transition) => transition.to === 'queued');
      return written(result, queued);
    },

    async waitForPlacement(id, options = {}) {
      if (!isUuid(id)) throw new DomainError('NOT_FOUND', `No container ${id}`);
      for (;;) {
        options.signal?.throwIfAborted();
        // A cheap look while it waits; the full view (with the queue's order) only once it has moved.
        const row = await settings.db.container.findUnique({
          where: { id },
          select: { state: true, queueDeadlineAt: true },
        });
        if (!row) throw new DomainError('NOT_FOUND', `No container ${id}`);
        if (row.state !== 'queued') return view(id);
        if (row.queueDeadlineAt && row.queueDeadlineAt.getTime() <= Date.now()) {
          emit(await expireQueue(ctx, id));
        }
        await new Promise<void>((resolve) => {
          const done = () => {
            clearTimeout(timer);
            waiters.delete(done);
            options.signal?.removeEventListener('abort', done);
            resolve();
          };
          const timer = setTimeout(done, settings.pollIntervalMs);
          waiters.add(done);
          options.signal?.addEventListener('abort', done, { once: true });
        });
      }
    },

    async markRunning(id) {
      return written(await containers.markRunning(ctx, id));
    },
    async hibernate(id) {
      return written(await containers.hibernate(ctx, id), true);
    },
    async resume(id, options = {}) {
      const result = await containers.resume(ctx, id, {
        whenBusy: options.whenBusy ?? 'queue',
        queueTimeoutMs: options.queueTimeoutMs ?? settings.queueTimeoutMs,
      });
      return written(
        result,
        result.transitions.some((transition) => transition.to === 'queued'),
      );
    },
    async stop(id, options = {}) {
      const code: StopCode = options.code ?? 'stopped';
      return written(await containers.stop(ctx, id, code, options.reason ?? 'Stopped'), true);
    },
    async cancel(id, options = {}) {
      return written(
        await containers.cancel(ctx, id, options.reason ?? 'Cancelled while waiting in the queue'),
        true,
      );
    },
    get: view,
    async list(filter = {}) {
      for (const id of [filter.workspaceId].filter((value) => value !== undefined)) {
        if (!isUuid(id)) throw new DomainError('NOT_FOUND', `No workspace ${id}`);
      }
      const rows = await settings.db.container.findMany({
        where: {
          workspaceId: filter.workspaceId,
          ownerId: filter.ownerId,
          nodeId: filter.nodeId,
          state: filter.states ? { in: filter.states } : undefined,
        },
        include: WITH_NODE,
        orderBy: { requestedAt: 'asc' },
      });
      const queue = rows.some((row) => row.state === 'queued') ? await queueStatuses(settings.db) : new Map();
      return rows.map((row) => toContainerView(row, queue.get(row.id) ?? null));
    },
    assess: (workspaceId, resources, options) => assess(ctx, workspaceId, resources, options),
    async usage(workspaceId) {
      if (!isUuid(workspaceId)) throw new DomainError('NOT_FOUND', `No workspace ${workspaceId}`);
      const workspace = await settings.db.workspace.findUnique({
        where: { id: workspaceId },
        select: { plan: true },
      });
      if (!workspace) throw new DomainError('NOT_FOUND', `No workspace ${workspaceId}`);
      return {
        plan: workspace.plan,
        used: await workspaceUsage(settings.db, workspaceId),
        limits: plans[workspace.plan],
      };
    },

    async registerNode(input) {
      const registration = await nodes.registerNode(ctx, input);
      emit(registration.transitions);
      await drain().catch(settings.onError);
      const node = (await nodes.listNodes(settings.db)).find((candidate) => candidate.id === input.id);
      if (!node) throw new DomainError('INTERNAL', `Node ${input.id} vanished after registering`);
      return {
        node,
        containers: await Promise.all(registration.live.map(view)),
        refused: registration.refused,
      };
    },
    heartbeat: (nodeId, report) => nodes.heartbeat(ctx, nodeId, report),
    detectLostNodes,
    giveUpLost,
    listNodes: () => nodes.listNodes(settings.db),
    volumeNode: (workspaceId, volumeId) => volumeNode(ctx, workspaceId, volumeId),
    workspaceDiskNode: (workspaceId) => workspaceDiskNode(ctx, workspaceId),
    async deletedMounts(id) {
      if (!isUuid(id)) throw new DomainError('NOT_FOUND', `No container ${id}`);
      const rows = await settings.db.$queryRaw<{ id: string }[]>`
        SELECT m.id::text AS id FROM "Container" c CROSS JOIN LATERAL unnest(c."volumeIds") AS m(id)
        WHERE c.id = ${id}::uuid AND NOT EXISTS (SELECT 1 FROM "Volume" v WHERE v.id = m.id)`;
      return rows.map((row) => row.id);
    },
    diskRefusal: (workspaceId, volume, nodeId) => diskRefusal(settings.db, workspaceId, volume, nodeId),
    drainQueue: drain,
    expireQueue: expireAll,
    async tick() {
      await detectLostNodes();
      await giveUpLost();
      await expireAll();
      await drain();
    },
    eventsAfter: (cursor, limit) => eventsAfter(settings.db, cursor, limit),
    async close() {
      await draining?.catch(() => undefined);
      await emitting;
    },
  };
}

import { DomainError } from '@kiln/core';
import type { ContainerModel as Container, Db, NodeModel as Node, NodeGpuModel as NodeGpu } from '@kiln/db';
import { z } from 'zod';
import type { GpuInventory } from '../gpu-inventory.ts';
import type { GpuTypeName } from '../gpu-types.ts';
import type { ContainerTransition, NodeView } from '../types.ts';
import { GPU_SOURCE, loadCluster } from './capacity.ts';
import type { StoreContext } from './context.ts';
import { lockReported, type RefusedRevival, reviveReported } from './revive.ts';
import { lockContainer, releaseGpus, transition } from './transition.ts';
import { dbNow, inTransaction, type Tx } from './tx.ts';

/** A gateway process announcing itself: where it listens and what it can run. */
export interface RegisterNodeInput {
  /** Stable across restarts of the same gateway (letters, digits, `.`, `_`, `:`, `-`). */
  id: string;
  url: string;
  cpu: number;
  memoryMiB: number;
  /** From `discoverGpus()`: probed with nvidia-smi, or declared for development (labelled so). */
  gpus: GpuInventory;
  /**
   * Containers whose sandboxes this gateway runs now (it re-adopted them after a restart). Given, the
   * node's lost containers among them come back and its other lost ones are given up; see revive.ts.
   */
  alive?: readonly string[];
}

export interface Registration {
  /** The containers the scheduler believes the node runs (or keeps hibernated). */
  live: string[];
  /** Containers it reported alive that could not come back, and why: the gateway stops them. */
  refused: RefusedRevival[];
  transitions: ContainerTransition[];
}

const registerSchema = z.object({
  id: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$/, 'id must be 1-100 letters, digits, ".", "_", ":" or "-"'),
  url: z.url({ protocol: /^https?$/, error: 'url must be an http(s) URL' }),
  cpu: z.number().positive('cpu must be more than 0'),
  memoryMiB: z.number().int('memoryMiB must be a whole number').positive('memoryMiB must be more than 0'),
});

const SOURCE_ROW = { 'nvidia-smi': 'nvidia_smi', declared: 'declared', none: 'none' } as const;

/**
 * Adds a node or renews one after a restart (a lost node comes back active). Its GPU list is replaced,
 * except devices still held by its containers, which must still be there. Lost containers it reports
 * alive come back (or are refused). Returns the containers the scheduler believes it runs, so the
 * gateway can stop what it no longer has, and those it must stop because they could not come back.
 */
export async function registerNode(ctx: StoreContext, input: RegisterNodeInput): Promise<Registration> {
  const parsed = registerSchema.safeParse(input);
  if (!parsed.success) {
    throw new DomainError(
      'VALIDATION_FAILED',
      `Invalid node: ${parsed.error.issues[0]?.message ?? 'bad input'}`,
    );
  }
  const devices = input.gpus.devices;
  if (new Set(devices.map((device) => device.index)).size !== devices.length) {
    throw new DomainError('VALIDATION_FAILED', `Invalid node: GPU indices of ${input.id} repeat`);
  }
  return inTransaction(ctx.db, { timeoutMs: ctx.transactionTimeoutMs }, async (tx) => {
    if (input.alive) await lockReported(tx, input.id, input.alive);
    const source = SOURCE_ROW[input.gpus.source];
    const note = input.gpus.note ?? null;
    await tx.$executeRaw`
      INSERT INTO "Node" (id, url, cpu, "memoryMiB", "gpuSource", "gpuNote", state, "registeredAt", "heartbeatAt")
      VALUES (${input.id}, ${input.url}, ${input.cpu}, ${input.memoryMiB}, ${source}::"GpuInventorySource", ${note},
              'active', clock_timestamp(), clock_timestamp())
      ON CONFLICT (id) DO UPDATE SET url = EXCLUDED.url, cpu = EXCLUDED.cpu, "memoryMiB" = EXCLUDED."memoryMiB",
        "gpuSource" = EXCLUDED."gpuSource", "gpuNote" = EXCLUDED."gpuNote", state = 'active',
        "registeredAt" = EXCLUDED."registeredAt", "heartbeatAt" = EXCLUDED."heartbeatAt",
        "lostAt" = NULL, "lostReason" = NULL, "reservedMemoryMiB" = 0`;
    const held = await tx.nodeGpu.findMany({ where: { nodeId: input.id, containerId: { not: null } } });
    for (const gpu of held) {
      const still = devices.find((device) => device.index === gpu.index);
      if (!still || (still.type ?? null) !== gpu.type) {
        throw new DomainError(
          'CONFLICT',
          `Node ${input.id} no longer reports GPU ${gpu.index} (${gpu.productName}), which container ${gpu.containerId} holds; stop it first`,
        );
      }
    }
    const heldIndices = new Set(held.map((gpu) => gpu.index));
    await tx.nodeGpu.deleteMany({ where: { nodeId: input.id, containerId: null } });
    await tx.nodeGpu.createMany({
      data: devices
        .filter((device) => !heldIndices.has(device.index))
        .map((device) => ({
          nodeId: input.id,
          index: device.index,
          uuid: device.uuid,
          productName: device.productName,
          type: device.type ?? null,
          memoryMiB: device.memoryMiB,
        })),
    });
    const revival = input.alive
      ? await reviveReported(tx, ctx, input.id, input.alive)
      : { transitions: [], refused: [] };
    const live = await tx.container.findMany({
      where: { nodeId: input.id, state: { in: ['starting', 'running', 'hibernated'] } },
      select: { id: true },
    });
    return { live: live.map((row) => row.id), ...revival };
  });
}

/** What a gateway reports with each heartbeat. */
export interface NodeReport {
  /** Memory its warm spare sandboxes use now, which placement leaves alone. */
  reservedMemoryMiB?: number;
}

/** Records that a node is alive (and what it reports); refuses a node marked lost (it must register again). */
export async function heartbeat(ctx: StoreContext, nodeId: string, report: NodeReport = {}): Promise<void> {
  const reserved = report.reservedMemoryMiB;
  if (reserved !== undefined && !(Number.isInteger(reserved) && reserved >= 0))
    throw new DomainError('VALIDATION_FAILED', 'reservedMemoryMiB must be a whole number of MiB, 0 or more');
  const updated = await ctx.db.$executeRaw`
    UPDATE "Node" SET "heartbeatAt" = clock_timestamp(),
      "reservedMemoryMiB" = COALESCE(${reserved ?? null}::int, "reservedMemoryMiB")
    WHERE id = ${nodeId} AND state = 'active'`;
  if (updated === 1) return;
  const node = await ctx.db.node.findUnique({ where: { id: nodeId } });
  if (!node) throw new DomainError('NOT_FOUND', `No node ${nodeId}; register it first`);
  throw new DomainError(
    'CONFLICT',
    `Node ${nodeId} was marked lost (${node.lostReason}); register it again`,
    {
      nodeId,
    },
  );
}

/** States of a container that a lost node takes with it (as in the queries below). */
const LIVE_ON_NODE: readonly string[] = ['starting', 'running', 'hibernated', 'queued'];

/**
 * Marks lost every node silent for longer than the heartbeat timeout, and its containers with it (a
 * queued resume pinned to it, stopped), freeing their GPUs. A node and its containers are declared lost in
 * one transaction: a gateway that registers again meanwhile waits on the node's row, then finds either
 * all of its containers lost or none, never some (its kernels share one fate, busy or idle). Any number of
 * processes may run this at once: each node and container changes state exactly once.
 */
export async function detectLostNodes(
  ctx: StoreContext,
): Promise<{ nodes: string[]; transitions: ContainerTransition[] }> {
  const seconds = ctx.heartbeatTimeoutMs / 1000;
  const stale = await ctx.db.$queryRaw<{ id: string }[]>`
    SELECT id FROM "Node" WHERE state = 'active' AND "heartbeatAt" < clock_timestamp() - make_interval(secs => ${seconds})`;
  const nodes: string[] = [];
  const transitions: ContainerTransition[] = [];
  // One node per transaction: a multi-row UPDATE could lock nodes in an order that crosses a placement's.
  for (const { id } of stale) {
    const lost = await inTransaction(ctx.db, { timeoutMs: ctx.transactionTimeoutMs }, async (tx) => {
      // Its containers first (a queued one waiting for the node that holds its volumes has only the
      // pin), then the node: the order placement locks them in.
      const locked = new Map<string, Container>();
      const lockLive = async () => {
        const live = await tx.$queryRaw<{ id: string }[]>`
          SELECT id FROM "Container" WHERE COALESCE("nodeId", "pinnedNodeId") = ${id}
            AND state IN ('starting', 'running', 'hibernated', 'queued') ORDER BY id`;
        for (const row of live) {
          if (locked.has(row.id)) continue;
          const container = await lockContainer(tx, row.id);
          if (container) locked.set(row.id, container);
        }
      };
      await lockLive();
      const marked = await tx.$executeRaw`
        UPDATE "Node" SET state = 'lost', "lostAt" = clock_timestamp(),
          "lostReason" = format('node %s stopped answering at %s (no heartbeat for %s s)', id,
            to_char("heartbeatAt" AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'), ${seconds}::text)
        WHERE id = ${id} AND state = 'active' AND "heartbeatAt" < clock_timestamp() - make_interval(secs => ${seconds})`;
      if (marked !== 1) return null;
      // A container placed here while this waited for the node's row.
      await lockLive();
      const node = await tx.node.findUnique({ where: { id } });
      const reason = `Lost: ${node?.lostReason ?? `node ${id} stopped answering`}`;
      const at = await dbNow(tx);
      const changes: ContainerTransition[] = [];
      for (const row of locked.values()) {
        if ((row.nodeId ?? row.pinnedNodeId) !== id || !LIVE_ON_NODE.includes(row.state)) continue;
        await releaseGpus(tx, row.id);
        changes.push(await loseContainer(tx, row, reason, at));
      }
      return changes;
    });
    if (!lost) continue;
    nodes.push(id);
    transitions.push(...lost);
  }
  // Also picks up containers a process that crashed half-way through an older version of this left behind.
  const orphans = await ctx.db.$queryRaw<{ id: string }[]>`
    SELECT c.id FROM "Container" c JOIN "Node" n ON n.id = COALESCE(c."nodeId", c."pinnedNodeId")
    WHERE n.state = 'lost' AND c.state IN ('starting', 'running', 'hibernated', 'queued')`;
  for (const { id } of orphans) {
    const done = await inTransaction(ctx.db, { timeoutMs: ctx.transactionTimeoutMs }, async (tx) => {
      const row = await lockContainer(tx, id);
      const nodeId = row?.nodeId ?? row?.pinnedNodeId;
      if (!row || !nodeId || !LIVE_ON_NODE.includes(row.state)) return null;
      const node = await tx.node.findUnique({ where: { id: nodeId } });
      if (node?.state !== 'lost') return null;
      await releaseGpus(tx, row.id);
      const reason = `Lost: ${node.lostReason ?? `node ${node.id} stopped answering`}`;
      return loseContainer(tx, row, reason, await dbNow(tx));
    });
    if (done) transitions.push(done);
  }
  return { nodes, transitions };
}

/** A container of a lost node: lost (a queued resume pinned there: stopped). */
function loseContainer(tx: Tx, row: Container, reason: string, at: Date): Promise<ContainerTransition> {
  return transition(
    tx,
    row,
    { to: row.state === 'queued' ? 'stopped' : 'lost', code: 'node_lost', reason, reservedGpus: 0 },
    at,
  );
}

/** Every node with its GPUs and what is free on it. */
export async function listNodes(db: Db): Promise<NodeView[]> {
  const [rows, cluster] = await Promise.all([
    db.node.findMany({ include: { gpus: { orderBy: { index: 'asc' } } }, orderBy: { id: 'asc' } }),
    loadCluster(db),
  ]);
  return rows.map((row) =>
    toNodeView(
      row,
      cluster.free.find((node) => node.id === row.id),
    ),
  );
}

function toNodeView(
  row: Node & { gpus: NodeGpu[] },
  free: Awaited<ReturnType<typeof loadCluster>>['free'][number] | undefined,
): NodeView {
  const source = GPU_SOURCE[row.gpuSource];
  const freeGpus: Partial<Record<GpuTypeName, number>> = {};
  for (const [type, indices] of Object.entries(free?.freeGpus ?? {}))
    freeGpus[type as GpuTypeName] = indices.length;
  return {
    id: row.id,
    url: row.url,
    state: row.state,
    cpu: row.cpu,
    memoryMiB: row.memoryMiB,
    gpuSource: source,
    gpuNote: row.gpuNote,
    gpus: row.gpus.map((gpu) => ({
      index: gpu.index,
      uuid: gpu.uuid,
      productName: gpu.productName,
      type: (gpu.type as GpuTypeName | null) ?? null,
      memoryMiB: gpu.memoryMiB,
      declared: source === 'declared',
      containerId: gpu.containerId,
    })),
    free: { cpu: free?.cpuFree ?? 0, memoryMiB: free?.memoryFreeMiB ?? 0, gpus: freeGpus },
    reservedMemoryMiB: row.reservedMemoryMiB,
    registeredAt: row.registeredAt,
    heartbeatAt: row.heartbeatAt,
    lostAt: row.lostAt,
    lostReason: row.lostReason,
  };
}

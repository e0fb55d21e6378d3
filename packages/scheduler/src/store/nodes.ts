import { DomainError } from '@kiln/core';
import type { Db, NodeModel as Node, NodeGpuModel as NodeGpu } from '@kiln/db';
import { z } from 'zod';
import type { GpuInventory } from '../gpu-inventory.ts';
import type { GpuTypeName } from '../gpu-types.ts';
import type { ContainerTransition, NodeView } from '../types.ts';
import { GPU_SOURCE, loadCluster } from './capacity.ts';
import type { StoreContext } from './context.ts';
import { lockContainer, releaseGpus, transition } from './transition.ts';
import { dbNow, inTransaction } from './tx.ts';

/** A gateway process announcing itself: where it listens and what it can run. */
export interface RegisterNodeInput {
  /** Stable across restarts of the same gateway (letters, digits, `.`, `_`, `:`, `-`). */
  id: string;
  url: string;
  cpu: number;
  memoryMiB: number;
  /** From `discoverGpus()`: probed with nvidia-smi, or declared for development (labelled so). */
  gpus: GpuInventory;
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
 * except devices still held by its containers, which must still be there. Returns the containers the
 * scheduler believes it runs, so the gateway can stop what it no longer has.
 */
export async function registerNode(ctx: StoreContext, input: RegisterNodeInput): Promise<string[]> {
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
    const source = SOURCE_ROW[input.gpus.source];
    const note = input.gpus.note ?? null;
    await tx.$executeRaw`
      INSERT INTO "Node" (id, url, cpu, "memoryMiB", "gpuSource", "gpuNote", state, "registeredAt", "heartbeatAt")
      VALUES (${input.id}, ${input.url}, ${input.cpu}, ${input.memoryMiB}, ${source}::"GpuInventorySource", ${note},
              'active', clock_timestamp(), clock_timestamp())
      ON CONFLICT (id) DO UPDATE SET url = EXCLUDED.url, cpu = EXCLUDED.cpu, "memoryMiB" = EXCLUDED."memoryMiB",
        "gpuSource" = EXCLUDED."gpuSource", "gpuNote" = EXCLUDED."gpuNote", state = 'active',
        "registeredAt" = EXCLUDED."registeredAt", "heartbeatAt" = EXCLUDED."heartbeatAt",
        "lostAt" = NULL, "lostReason" = NULL`;
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
    const live = await tx.container.findMany({
      where: { nodeId: input.id, state: { in: ['starting', 'running', 'hibernated'] } },
      select: { id: true },
    });
    return live.map((row) => row.id);
  });
}

/** Records that a node is alive; refuses a node marked lost (it must register again). */
export async function heartbeat(ctx: StoreContext, nodeId: string): Promise<void> {
  const updated = await ctx.db.$executeRaw`
    UPDATE "Node" SET "heartbeatAt" = clock_timestamp() WHERE id = ${nodeId} AND state = 'active'`;
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

/**
 * Marks lost every node silent for longer than the heartbeat timeout, then marks its containers lost
 * (a queued resume pinned to it, stopped) and frees their GPUs. Any number of processes may run it at
 * once: each node and container changes state exactly once.
 */
export async function detectLostNodes(
  ctx: StoreContext,
): Promise<{ nodes: string[]; transitions: ContainerTransition[] }> {
  const seconds = ctx.heartbeatTimeoutMs / 1000;
  const stale = await ctx.db.$queryRaw<{ id: string }[]>`
    SELECT id FROM "Node" WHERE state = 'active' AND "heartbeatAt" < clock_timestamp() - make_interval(secs => ${seconds})`;
  const nodes: string[] = [];
  // One node per statement: a multi-row UPDATE could lock nodes in an order that crosses a placement's.
  for (const { id } of stale) {
    const marked = await ctx.db.$executeRaw`
      UPDATE "Node" SET state = 'lost', "lostAt" = clock_timestamp(),
        "lostReason" = format('node %s stopped answering at %s (no heartbeat for %s s)', id,
          to_char("heartbeatAt" AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'), ${seconds}::text)
      WHERE id = ${id} AND state = 'active' AND "heartbeatAt" < clock_timestamp() - make_interval(secs => ${seconds})`;
    if (marked === 1) nodes.push(id);
  }
  // Also picks up containers a process that crashed half-way through this left behind.
  const orphans = await ctx.db.$queryRaw<{ id: string }[]>`
    SELECT c.id FROM "Container" c JOIN "Node" n ON n.id = c."nodeId"
    WHERE n.state = 'lost' AND c.state IN ('starting', 'running', 'hibernated', 'queued')`;
  const transitions: ContainerTransition[] = [];
  for (const { id } of orphans) {
    const done = await inTransaction(ctx.db, { timeoutMs: ctx.transactionTimeoutMs }, async (tx) => {
      const row = await lockContainer(tx, id);
      if (!row?.nodeId || !['starting', 'running', 'hibernated', 'queued'].includes(row.state)) return null;
      const node = await tx.node.findUnique({ where: { id: row.nodeId } });
      if (node?.state !== 'lost') return null;
      await releaseGpus(tx, row.id);
      const reason = `Lost: ${node.lostReason ?? `node ${node.id} stopped answering`}`;
      return transition(
        tx,
        row,
        { to: row.state === 'queued' ? 'stopped' : 'lost', code: 'node_lost', reason, reservedGpus: 0 },
        await dbNow(tx),
      );
    });
    if (done) transitions.push(done);
  }
  return { nodes, transitions };
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
    registeredAt: row.registeredAt,
    heartbeatAt: row.heartbeatAt,
    lostAt: row.lostAt,
    lostReason: row.lostReason,
  };
}

import type { Db } from '@kiln/db';
import type { GpuTypeName } from '../gpu-types.ts';
import {
  CPU_EPSILON,
  type NodeCapacity,
  type PlacementDecision,
  type PlacementRequest,
} from '../policy/capacity.ts';
import type { NodeSize } from '../policy/feasibility.ts';
import { place } from '../policy/place.ts';
import type { GpuSource } from '../types.ts';
import type { Tx } from './tx.ts';

export interface ClusterSnapshot {
  /** Free resources of active nodes, in id order. */
  free: NodeCapacity[];
  /** Whole sizes of the same nodes. */
  sizes: NodeSize[];
  /** Whole sizes of every registered node, lost ones too (they may come back): what could ever run. */
  registered: NodeSize[];
}

export const GPU_SOURCE: Record<'nvidia_smi' | 'declared' | 'none', GpuSource> = {
  nvidia_smi: 'nvidia-smi',
  declared: 'declared',
  none: 'none',
};

/** Reads what every active node (or the listed ones) has in all and has free, and every node's size. */
export async function loadCluster(tx: Tx | Db, nodeIds?: string[]): Promise<ClusterSnapshot> {
  const only = nodeIds ?? null;
  const nodes = await tx.$queryRaw<
    {
      id: string;
      cpu: number;
      memoryMiB: number;
      gpuSource: keyof typeof GPU_SOURCE;
      active: boolean;
      cpuUsed: number;
      memoryUsed: number;
      reservedMemoryMiB: number;
    }[]
  >`
    SELECT n.id, n.cpu, n."memoryMiB", n."gpuSource"::text AS "gpuSource", n."reservedMemoryMiB",
           n.state = 'active' AS active,
           COALESCE(u.cpu, 0)::float8 AS "cpuUsed", COALESCE(u.memory, 0)::float8 AS "memoryUsed"
    FROM "Node" n
    LEFT JOIN (
      SELECT "nodeId", sum(cpu) AS cpu, sum("memoryMiB") AS memory FROM "Container"
      WHERE state IN ('starting', 'running') AND "nodeId" IS NOT NULL GROUP BY "nodeId"
    ) u ON u."nodeId" = n.id
    WHERE (${only}::text[] IS NULL OR n.id = ANY(${only}::text[]))
    ORDER BY n.id`;
  const gpus = await tx.$queryRaw<{ nodeId: string; index: number; type: string; free: boolean }[]>`
    SELECT g."nodeId", g.index, g.type, g."containerId" IS NULL AS free
    FROM "NodeGpu" g
    WHERE g.type IS NOT NULL AND (${only}::text[] IS NULL OR g."nodeId" = ANY(${only}::text[]))
    ORDER BY g."nodeId", g.index`;
  const free = new Map<string, NodeCapacity>();
  const sizes = new Map<string, NodeSize>();
  const registered = new Map<string, NodeSize>();
  for (const node of nodes) {
    if (!node.active) {
      // A lost node's spares are gone with it; it comes back with all its memory.
      const size = { id: node.id, cpu: node.cpu, memoryMiB: node.memoryMiB, gpus: {} };
      registered.set(node.id, { ...size, gpuSource: GPU_SOURCE[node.gpuSource] });
      continue;
    }
    free.set(node.id, {
      id: node.id,
      cpuFree: node.cpu - node.cpuUsed,
      // Warm spares the gateway keeps are memory no container may count on.
      memoryFreeMiB: node.memoryMiB - node.memoryUsed - node.reservedMemoryMiB,
      freeGpus: {},
      freeGpuCount: 0,
    });
    sizes.set(node.id, {
      id: node.id,
      cpu: node.cpu,
      // What containers could ever get there: warm spares keep their memory until the gateway drops them.
      memoryMiB: node.memoryMiB - node.reservedMemoryMiB,
      reservedMemoryMiB: node.reservedMemoryMiB,
      gpus: {},
      gpuSource: GPU_SOURCE[node.gpuSource],
    });
  }
  for (const [id, size] of sizes) registered.set(id, size);
  for (const gpu of gpus) {
    const type = gpu.type as GpuTypeName;
    const size = registered.get(gpu.nodeId);
    if (size) size.gpus[type] = (size.gpus[type] ?? 0) + 1;
    const capacity = free.get(gpu.nodeId);
    if (!capacity) continue;
    if (!gpu.free) continue;
    const list = capacity.freeGpus[type];
    if (list) list.push(gpu.index);
    else capacity.freeGpus[type] = [gpu.index];
    capacity.freeGpuCount++;
  }
  return { free: [...free.values()], sizes: [...sizes.values()], registered: [...registered.values()] };
}

/**
 * Finds a node for `request` and locks it. The choice is made on `snapshot` (read without locks), then
 * the chosen node is locked and re-read; if it no longer has room the snapshot is corrected and the
 * choice made again. Every node that ends up chosen is verified under its lock, so two transactions can
 * never both take the same GPU or overcommit a node. Updates `snapshot` with what it re-read.
 */
export async function chooseAndLockNode(
  tx: Tx,
  snapshot: NodeCapacity[],
  request: PlacementRequest,
  locked: Set<string>,
): Promise<PlacementDecision | null> {
  for (;;) {
    const decision = place(snapshot, request);
    if (!decision) return null;
    if (locked.has(decision.nodeId)) return decision;
    const rows = await tx.$queryRaw<{ state: string }[]>`
      SELECT state::text FROM "Node" WHERE id = ${decision.nodeId} FOR NO KEY UPDATE`;
    locked.add(decision.nodeId);
    const fresh =
      rows[0]?.state === 'active' ? (await loadCluster(tx, [decision.nodeId])).free[0] : undefined;
    snapshot[decision.nodeIndex] = fresh ?? {
      id: decision.nodeId,
      cpuFree: -1,
      memoryFreeMiB: -1,
      freeGpus: {},
      freeGpuCount: 0,
    };
  }
}

/** Whether the free resources of `node` cover `request` with the decided GPUs. */
export function covers(node: NodeCapacity, request: PlacementRequest, decision: PlacementDecision): boolean {
  if (node.cpuFree + CPU_EPSILON < request.cpu || node.memoryFreeMiB < request.memoryMiB) return false;
  if (!decision.choice) return true;
  const free = new Set(node.freeGpus[decision.choice.type] ?? []);
  return decision.gpuIndices.every((index) => free.has(index));
}

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
}

export const GPU_SOURCE: Record<'nvidia_smi' | 'declared' | 'none', GpuSource> = {
  nvidia_smi: 'nvidia-smi',
  declared: 'declared',
  none: 'none',
};

/** Reads what every active node (or the listed ones) has in all and has free. */
export async function loadCluster(tx: Tx | Db, nodeIds?: string[]): Promise<ClusterSnapshot> {
  const only = nodeIds ?? null;
  const nodes = await tx.$queryRaw<
    {
      id: string;
      cpu: number;
      memoryMiB: number;
      gpuSource: keyof typeof GPU_SOURCE;
      cpuUsed: number;
      memoryUsed: number;
    }[]
  >`
    SELECT n.id, n.cpu, n."memoryMiB", n."gpuSource"::text AS "gpuSource",
           COALESCE(u.cpu, 0)::float8 AS "cpuUsed", COALESCE(u.memory, 0)::float8 AS "memoryUsed"
    FROM "Node" n
    LEFT JOIN (
      SELECT "nodeId", sum(cpu) AS cpu, sum("memoryMiB") AS memory FROM "Container"
      WHERE state IN ('starting', 'running') AND "nodeId" IS NOT NULL GROUP BY "nodeId"
    ) u ON u."nodeId" = n.id
    WHERE n.state = 'active' AND (${only}::text[] IS NULL OR n.id = ANY(${only}::text[]))
    ORDER BY n.id`;
  const gpus = await tx.$queryRaw<{ nodeId: string; index: number; type: string; free: boolean }[]>`
    SELECT g."nodeId", g.index, g.type, g."containerId" IS NULL AS free
    FROM "NodeGpu" g JOIN "Node" n ON n.id = g."nodeId"
    WHERE n.state = 'active' AND g.type IS NOT NULL AND (${only}::text[] IS NULL OR n.id = ANY(${only}::text[]))
    ORDER BY g."nodeId", g.index`;
  const free = new Map<string, NodeCapacity>();
  const sizes = new Map<string, NodeSize>();
  for (const node of nodes) {
    free.set(node.id, {
      id: node.id,
      cpuFree: node.cpu - node.cpuUsed,
      memoryFreeMiB: node.memoryMiB - node.memoryUsed,
      freeGpus: {},
      freeGpuCount: 0,
    });
    sizes.set(node.id, {
      id: node.id,
      cpu: node.cpu,
      memoryMiB: node.memoryMiB,
      gpus: {},
      gpuSource: GPU_SOURCE[node.gpuSource],
    });
  }
  for (const gpu of gpus) {
    const type = gpu.type as GpuTypeName;
    const size = sizes.get(gpu.nodeId);
    const capacity = free.get(gpu.nodeId);
    if (!size || !capacity) continue;
    size.gpus[type] = (size.gpus[type] ?? 0) + 1;
    if (!gpu.free) continue;
    const list = capacity.freeGpus[type];
    if (list) list.push(gpu.index);
    else capacity.freeGpus[type] = [gpu.index];
    capacity.freeGpuCount++;
  }
  return { free: [...free.values()], sizes: [...sizes.values()] };
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

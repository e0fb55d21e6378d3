import type { GpuTypeName } from '../gpu-types.ts';
import type { GpuChoice } from '../resource-request.ts';

/** What one node has free right now, as the placement policy sees it. */
export interface NodeCapacity {
  id: string;
  cpuFree: number;
  memoryFreeMiB: number;
  /** Indices of free devices, by Kiln GPU type, in ascending order. */
  freeGpus: Partial<Record<GpuTypeName, number[]>>;
  /** Free devices of every type together (kept in step with `freeGpus`). */
  freeGpuCount: number;
}

/** What one container needs; `gpu` lists acceptable shapes in order of preference (empty: no GPU). */
export interface PlacementRequest {
  cpu: number;
  memoryMiB: number;
  gpu: readonly GpuChoice[];
  /** Only this node may take it (a hibernated kernel's checkpoint lives there, or its volumes do). */
  nodeId?: string | null;
  /** Why it is pinned, for messages: "which holds its volumes". */
  pinnedBecause?: string;
  /** Nodes it must leave alone: requests pinned to them wait for their room. */
  avoidNodes?: ReadonlySet<string>;
}

/** Where a request goes: one node, and the devices of the one GPU choice that was satisfied there. */
export interface PlacementDecision {
  nodeId: string;
  /** Position of the node in the list given to the policy. */
  nodeIndex: number;
  choice: GpuChoice | null;
  gpuIndices: number[];
}

/** CPU shares are fractions (0.125 cores): sums of them may be off by float rounding. */
export const CPU_EPSILON = 1e-6;

/** Takes a decision's resources off its node, for callers that place many requests in a row. */
export function applyDecision(
  nodes: NodeCapacity[],
  request: PlacementRequest,
  decision: PlacementDecision,
): void {
  const node = nodes[decision.nodeIndex];
  if (!node || node.id !== decision.nodeId) throw new Error(`decision names node ${decision.nodeId}`);
  node.cpuFree -= request.cpu;
  node.memoryFreeMiB -= request.memoryMiB;
  if (!decision.choice) return;
  const taken = new Set(decision.gpuIndices);
  const free = node.freeGpus[decision.choice.type] ?? [];
  node.freeGpus[decision.choice.type] = free.filter((index) => !taken.has(index));
  node.freeGpuCount -= taken.size;
}

/** Gives a decision's resources back to its node. */
export function releaseDecision(
  nodes: NodeCapacity[],
  request: PlacementRequest,
  decision: PlacementDecision,
): void {
  const node = nodes[decision.nodeIndex];
  if (!node || node.id !== decision.nodeId) throw new Error(`decision names node ${decision.nodeId}`);
  node.cpuFree += request.cpu;
  node.memoryFreeMiB += request.memoryMiB;
  if (!decision.choice) return;
  const free = [...(node.freeGpus[decision.choice.type] ?? []), ...decision.gpuIndices];
  node.freeGpus[decision.choice.type] = free.sort((a, b) => a - b);
  node.freeGpuCount += decision.gpuIndices.length;
}

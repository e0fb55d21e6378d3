import type { GpuChoice } from '../resource-request.ts';
import { CPU_EPSILON, type NodeCapacity, type PlacementDecision, type PlacementRequest } from './capacity.ts';

/**
 * Kiln's placement policy, a pure function: the node for `request`, or null when none fits now.
 *
 * GPU choices are tried in the order asked (a fallback list means "the first of these that is free").
 * For a choice, the node whose free devices of that type most closely match the count wins (best fit),
 * so a 1-GPU request lands on a half-used node and whole nodes stay free for 8-GPU requests; ties go
 * to the node left with the least CPU, then memory. CPU-only requests prefer nodes with the fewest free
 * GPUs, keeping GPU nodes' cores for GPU work. One container's GPUs always come from one node.
 */
export function place(nodes: readonly NodeCapacity[], request: PlacementRequest): PlacementDecision | null {
  if (request.gpu.length === 0) return placeCpuOnly(nodes, request);
  for (const choice of request.gpu) {
    const decision = placeChoice(nodes, request, choice);
    if (decision) return decision;
  }
  return null;
}

function placeChoice(
  nodes: readonly NodeCapacity[],
  request: PlacementRequest,
  choice: GpuChoice,
): PlacementDecision | null {
  const { cpu, memoryMiB } = request;
  const pinned = request.nodeId ?? null;
  const avoid = request.avoidNodes;
  let best = -1;
  let bestGpuLeft = Number.POSITIVE_INFINITY;
  let bestCpuLeft = Number.POSITIVE_INFINITY;
  let bestMemoryLeft = Number.POSITIVE_INFINITY;
  for (let i = 0; i < nodes.length; i++) {
    const node = nodes[i] as NodeCapacity;
    // Plain number checks first: on a busy cluster they turn most nodes away before the type lookup.
    if (node.freeGpuCount < choice.count) continue;
    const cpuLeft = node.cpuFree - cpu;
    const memoryLeft = node.memoryFreeMiB - memoryMiB;
    if (cpuLeft < -CPU_EPSILON || memoryLeft < 0) continue;
    const free = node.freeGpus[choice.type];
    if (free === undefined || free.length < choice.count) continue;
    if (pinned !== null && node.id !== pinned) continue;
    if (avoid?.has(node.id)) continue;
    const gpuLeft = free.length - choice.count;
    if (
      gpuLeft < bestGpuLeft ||
      (gpuLeft === bestGpuLeft &&
        (cpuLeft < bestCpuLeft || (cpuLeft === bestCpuLeft && memoryLeft < bestMemoryLeft)))
    ) {
      best = i;
      bestGpuLeft = gpuLeft;
      bestCpuLeft = cpuLeft;
      bestMemoryLeft = memoryLeft;
      if (gpuLeft === 0 && cpuLeft <= CPU_EPSILON && memoryLeft === 0) break;
    }
  }
  if (best < 0) return null;
  const node = nodes[best] as NodeCapacity;
  const free = node.freeGpus[choice.type] as number[];
  return { nodeId: node.id, nodeIndex: best, choice, gpuIndices: free.slice(0, choice.count) };
}

function placeCpuOnly(nodes: readonly NodeCapacity[], request: PlacementRequest): PlacementDecision | null {
  const { cpu, memoryMiB } = request;
  const pinned = request.nodeId ?? null;
  const avoid = request.avoidNodes;
  let best = -1;
  let bestGpus = Number.POSITIVE_INFINITY;
  let bestCpuLeft = Number.POSITIVE_INFINITY;
  let bestMemoryLeft = Number.POSITIVE_INFINITY;
  for (let i = 0; i < nodes.length; i++) {
    const node = nodes[i] as NodeCapacity;
    const cpuLeft = node.cpuFree - cpu;
    const memoryLeft = node.memoryFreeMiB - memoryMiB;
    if (cpuLeft < -CPU_EPSILON || memoryLeft < 0) continue;
    if (pinned !== null && node.id !== pinned) continue;
    if (avoid?.has(node.id)) continue;
    const gpus = node.freeGpuCount;
    if (
      gpus < bestGpus ||
      (gpus === bestGpus &&
        (cpuLeft < bestCpuLeft || (cpuLeft === bestCpuLeft && memoryLeft < bestMemoryLeft)))
    ) {
      best = i;
      bestGpus = gpus;
      bestCpuLeft = cpuLeft;
      bestMemoryLeft = memoryLeft;
    }
  }
  if (best < 0) return null;
  return { nodeId: (nodes[best] as NodeCapacity).id, nodeIndex: best, choice: null, gpuIndices: [] };
}

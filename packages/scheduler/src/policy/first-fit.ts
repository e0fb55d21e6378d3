import { CPU_EPSILON, type NodeCapacity, type PlacementDecision, type PlacementRequest } from './capacity.ts';

/**
 * The plain first-fit baseline the benchmark compares Kiln's policy against: the first node in list
 * order with room, trying GPU choices in the order asked. Not used for real placement.
 */
export function firstFit(
  nodes: readonly NodeCapacity[],
  request: PlacementRequest,
): PlacementDecision | null {
  const choices = request.gpu.length === 0 ? [null] : request.gpu;
  for (const choice of choices) {
    for (let i = 0; i < nodes.length; i++) {
      const node = nodes[i] as NodeCapacity;
      if (request.nodeId && node.id !== request.nodeId) continue;
      if (node.cpuFree - request.cpu < -CPU_EPSILON || node.memoryFreeMiB < request.memoryMiB) continue;
      if (!choice) return { nodeId: node.id, nodeIndex: i, choice: null, gpuIndices: [] };
      const free = node.freeGpus[choice.type];
      if (free && free.length >= choice.count) {
        return { nodeId: node.id, nodeIndex: i, choice, gpuIndices: free.slice(0, choice.count) };
      }
    }
  }
  return null;
}

import { DomainError } from '@kiln/core';
import type { GpuTypeName } from '../gpu-types.ts';
import type { GpuChoice } from '../resource-request.ts';
import { CPU_EPSILON, type PlacementRequest } from './capacity.ts';
import { formatCpu, formatMemory } from './fair-queue.ts';

/** A node's whole size, free or not: what it could ever give one container. */
export interface NodeSize {
  id: string;
  cpu: number;
  /** Memory containers could ever get: the node's memory less what its warm spares hold. */
  memoryMiB: number;
  /** Memory the node's warm spare sandboxes hold (already taken off `memoryMiB`). */
  reservedMemoryMiB?: number;
  /** Devices of each Kiln GPU type. */
  gpus: Partial<Record<GpuTypeName, number>>;
  /** Where its GPU list came from. */
  gpuSource: 'nvidia-smi' | 'declared' | 'none';
}

/** The GPU choices of `request` some node could hold when empty, in the order asked. */
export function feasibleChoices(nodes: readonly NodeSize[], request: PlacementRequest): GpuChoice[] {
  return request.gpu.filter((choice) => nodes.some((node) => fits(node, request, choice)));
}

/** Whether some node could hold `request` when empty (any of its GPU choices). */
export function isFeasible(nodes: readonly NodeSize[], request: PlacementRequest): boolean {
  if (request.gpu.length === 0) return nodes.some((node) => fits(node, request, null));
  return feasibleChoices(nodes, request).length > 0;
}

function fits(node: NodeSize, request: PlacementRequest, choice: GpuChoice | null): boolean {
  if (request.nodeId && node.id !== request.nodeId) return false;
  if (node.cpu + CPU_EPSILON < request.cpu || node.memoryMiB < request.memoryMiB) return false;
  return choice === null || (node.gpus[choice.type] ?? 0) >= choice.count;
}

/** Why no node could ever hold `request`, and what could run instead. */
export function unsatisfiableError(all: readonly NodeSize[], request: PlacementRequest): DomainError {
  const pinned = request.nodeId ?? null;
  const nodes = pinned === null ? all : all.filter((node) => node.id === pinned);
  const reasons: string[] = [];
  const bigEnough = nodes.filter((node) => fits(node, { ...request, gpu: [] }, null));
  if (bigEnough.length === 0) {
    reasons.push(
      `no node has ${formatCpu(request.cpu)} and ${formatMemory(request.memoryMiB)} of memory (${largest(nodes)})`,
    );
  }
  for (const choice of request.gpu) {
    const most = Math.max(0, ...bigEnough.map((node) => node.gpus[choice.type] ?? 0));
    if (bigEnough.length > 0 && most === 0) reasons.push(`no node has ${choice.type} GPUs`);
    else if (bigEnough.length > 0)
      reasons.push(`no node has ${choice.count} × ${choice.type} (at most ${most} on one node)`);
  }
  const asked = request.gpu.map((choice) => `${choice.type}:${choice.count}`).join(' or ') || 'no GPU';
  const offer = offered(nodes);
  const where =
    pinned === null
      ? 'anywhere in this Kiln'
      : `on node ${pinned}${request.pinnedBecause ? `, ${request.pinnedBecause}` : ''}`;
  if (pinned !== null && nodes.length === 0) reasons.push(`node ${pinned} is not online`);
  return new DomainError(
    'VALIDATION_FAILED',
    `This machine cannot run ${where}: ${reasons.join('; ')}. ${offer.sentence}`,
    { reason: 'unsatisfiable', requested: asked, valid: offer.valid, nodeId: pinned },
  );
}

/** "the largest has 8 CPUs and 15 GiB; its warm spares hold 1 GiB more": the biggest node by memory. */
function largest(nodes: readonly NodeSize[]): string {
  const cpu = Math.max(0, ...nodes.map((node) => node.cpu));
  const biggest = [...nodes].sort((a, b) => b.memoryMiB - a.memoryMiB)[0];
  const memory = biggest?.memoryMiB ?? 0;
  const spares = biggest?.reservedMemoryMiB ?? 0;
  const held = spares > 0 ? `; its warm spares hold ${formatMemory(spares)} more` : '';
  return `the largest has ${formatCpu(cpu)} and ${formatMemory(memory)}${held}`;
}

/** What the registered nodes can run, per GPU type: the most devices of it on one node. */
function offered(nodes: readonly NodeSize[]): { sentence: string; valid: Record<string, unknown> } {
  const most = new Map<GpuTypeName, { count: number; declared: boolean }>();
  for (const node of nodes) {
    for (const [type, count] of Object.entries(node.gpus) as [GpuTypeName, number][]) {
      const seen = most.get(type);
      if (!seen || count > seen.count) most.set(type, { count, declared: node.gpuSource === 'declared' });
    }
  }
  const cpu = Math.max(0, ...nodes.map((node) => node.cpu));
  const memoryMiB = Math.max(0, ...nodes.map((node) => node.memoryMiB));
  const gpus = [...most].map(([type, { count, declared }]) => ({ type, maxCount: count, declared }));
  const valid = { maxCpu: cpu, maxMemoryMiB: memoryMiB, gpus };
  if (nodes.length === 0) return { sentence: 'No node is registered.', valid };
  const list = gpus.map(
    (gpu) =>
      `${gpu.type} (up to ${gpu.maxCount} per container${gpu.declared ? ', declared for development, not probed' : ''})`,
  );
  const sentence =
    list.length === 0
      ? `No node has GPUs: CPU-only machines up to ${formatCpu(cpu)} and ${formatMemory(memoryMiB)} can run.`
      : `Available: ${list.join(', ')}, or no GPU; up to ${formatCpu(cpu)} and ${formatMemory(memoryMiB)}.`;
  return { sentence, valid };
}

import type { GpuTypeName } from '@kiln/scheduler/gpu-types';
import type { NodeCapacity, PlacementRequest } from '@kiln/scheduler/policy';

/** A request of the mixed workload, with the workspace that asked and how long it runs once placed. */
export interface WorkloadRequest extends PlacementRequest {
  workspaceId: string;
  /** Time steps (one request arrives per step) until it ends. */
  lifetime: number;
}

/**
 * Mean lifetime in steps: about 2.3 GPUs arrive per step, so the 8,000 GPUs fill after roughly 3,500
 * steps while containers keep ending at random and leaving holes, as on a real cluster.
 */
const MEAN_LIFETIME = 6_000;

/** A small, seeded generator (mulberry32), so every run places the same requests. */
export function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function pick<T>(next: () => number, weighted: [T, number][]): T {
  const total = weighted.reduce((sum, [, weight]) => sum + weight, 0);
  let at = next() * total;
  for (const [value, weight] of weighted) {
    at -= weight;
    if (at < 0) return value;
  }
  return (weighted[weighted.length - 1] as [T, number])[0];
}

/** How many of the 1,000 nodes carry each GPU type (8 devices each). */
export const NODE_MIX: [GpuTypeName, number][] = [
  ['H100', 300],
  ['A100-80GB', 150],
  ['A100-40GB', 100],
  ['L40S', 100],
  ['A10', 100],
  ['L4', 100],
  ['T4', 100],
  ['H200', 50],
];

const NODE_CPU = 128;
const NODE_MEMORY_MIB = 1024 * 1024;

/** 1,000 declared nodes of 8 GPUs each, one type per node, shuffled so no policy gets them sorted. */
export function makeNodes(seed: number): NodeCapacity[] {
  const next = random(seed);
  const nodes: NodeCapacity[] = [];
  for (const [type, count] of NODE_MIX) {
    for (let n = 0; n < count; n++) {
      nodes.push({
        id: `${type.toLowerCase()}-${n}`,
        cpuFree: NODE_CPU,
        memoryFreeMiB: NODE_MEMORY_MIB,
        freeGpus: { [type]: [0, 1, 2, 3, 4, 5, 6, 7] },
        freeGpuCount: 8,
      });
    }
  }
  for (let i = nodes.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [nodes[i], nodes[j]] = [nodes[j] as NodeCapacity, nodes[i] as NodeCapacity];
  }
  return nodes;
}

/** Deep copy, so each policy starts from the same empty cluster. */
export function cloneNodes(nodes: NodeCapacity[]): NodeCapacity[] {
  return nodes.map((node) => ({
    ...node,
    freeGpus: Object.fromEntries(
      Object.entries(node.freeGpus).map(([type, list]) => [type, [...(list ?? [])]]),
    ),
  }));
}

const TYPE_WEIGHTS: [GpuTypeName, number][] = NODE_MIX.map(([type, count]) => [type, count]);

/**
 * 10,000 mixed requests from 40 workspaces: a fifth CPU-only, the rest 1, 2, 4 or 8 GPUs of the types
 * the nodes carry (A10 at most 4), a third of them with a fallback list of two or three types.
 */
export function makeRequests(seed: number, count = 10_000): WorkloadRequest[] {
  const next = random(seed);
  const requests: WorkloadRequest[] = [];
  for (let n = 0; n < count; n++) {
    const workspaceId = `ws-${Math.floor(next() * 40)}`;
    const lifetime = Math.max(1, Math.round(-Math.log(1 - next()) * MEAN_LIFETIME));
    if (next() < 0.2) {
      requests.push({
        workspaceId,
        lifetime,
        cpu: 1 + Math.floor(next() * 8),
        memoryMiB: 1024 * (2 + Math.floor(next() * 31)),
        gpu: [],
      });
      continue;
    }
    const wanted = pick(next, [
      [1, 40],
      [2, 25],
      [4, 20],
      [8, 15],
    ] as [number, number][]);
    const choices: { type: GpuTypeName; count: number }[] = [];
    const fallbacks = next() < 1 / 3 ? 1 + Math.floor(next() * 2) : 0;
    while (choices.length < 1 + fallbacks) {
      const type = pick(next, TYPE_WEIGHTS);
      if (choices.some((choice) => choice.type === type)) continue;
      choices.push({ type, count: type === 'A10' ? Math.min(wanted, 4) : wanted });
    }
    requests.push({
      workspaceId,
      lifetime,
      cpu: wanted * (2 + Math.floor(next() * 11)),
      memoryMiB: wanted * 1024 * (16 + Math.floor(next() * 81)),
      gpu: choices,
    });
  }
  return requests;
}

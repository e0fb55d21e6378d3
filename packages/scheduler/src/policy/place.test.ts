import { describe, expect, it } from 'vitest';
import type { GpuTypeName } from '../gpu-types.ts';
import { parseResourceRequest } from '../resource-request.ts';
import { applyDecision, type NodeCapacity, releaseDecision } from './capacity.ts';
import { firstFit } from './first-fit.ts';
import { place } from './place.ts';

function node(
  id: string,
  gpus: Partial<Record<GpuTypeName, number[]>>,
  cpu = 64,
  memoryMiB = 262_144,
): NodeCapacity {
  const freeGpuCount = Object.values(gpus).reduce((sum, list) => sum + (list?.length ?? 0), 0);
  return { id, cpuFree: cpu, memoryFreeMiB: memoryMiB, freeGpus: gpus, freeGpuCount };
}

const request = (gpu?: string | string[], cpu = 1, memoryMiB = 1024) =>
  parseResourceRequest({ cpu, memoryMiB, gpu });

describe('place (best fit)', () => {
  it('puts a 1-GPU request on the node with the fewest free devices of that type, keeping a whole node free', () => {
    const nodes = [node('whole', { H100: [0, 1, 2, 3, 4, 5, 6, 7] }), node('half', { H100: [4, 5, 6, 7] })];
    expect(place(nodes, request('H100'))).toMatchObject({ nodeId: 'half', gpuIndices: [4] });
    // First fit would break into the whole node and leave no room for an 8-GPU request.
    expect(firstFit(nodes, request('H100'))).toMatchObject({ nodeId: 'whole' });
  });

  it('then a request for 8 still finds the whole node', () => {
    const nodes = [node('whole', { H100: [0, 1, 2, 3, 4, 5, 6, 7] }), node('half', { H100: [4, 5, 6, 7] })];
    for (let i = 0; i < 4; i++) {
      const decision = place(nodes, request('H100'));
      if (!decision) throw new Error('expected a placement');
      applyDecision(nodes, request('H100'), decision);
    }
    expect(nodes[1]?.freeGpuCount).toBe(0);
    expect(place(nodes, request('H100:8'))).toMatchObject({
      nodeId: 'whole',
      gpuIndices: [0, 1, 2, 3, 4, 5, 6, 7],
    });
  });

  it('tries fallback choices in the order asked, even when a later one would fit better', () => {
    const nodes = [node('a100', { 'A100-80GB': [0] }), node('h100', { H100: [0, 1, 2, 3, 4, 5, 6, 7] })];
    expect(place(nodes, request(['H100', 'A100-80GB']))?.choice).toEqual({ type: 'H100', count: 1 });
    expect(place(nodes, request(['A100-80GB', 'H100']))?.choice).toEqual({ type: 'A100-80GB', count: 1 });
    expect(place(nodes, request(['B200', 'A100-80GB']))).toMatchObject({
      nodeId: 'a100',
      choice: { type: 'A100-80GB' },
    });
  });

  it('never splits one request across nodes', () => {
    const nodes = [node('x', { T4: [0, 1] }), node('y', { T4: [0, 1] })];
    expect(place(nodes, request('T4:4'))).toBeNull();
    expect(place(nodes, request('T4:2'))?.gpuIndices).toHaveLength(2);
  });

  it('needs CPU and memory on the same node as the GPUs', () => {
    const nodes = [node('tight', { L4: [0] }, 2, 4096), node('roomy', { L4: [0, 1] }, 32, 65_536)];
    expect(place(nodes, request('L4', 4, 8192))).toMatchObject({ nodeId: 'roomy' });
    expect(place(nodes, request('L4', 64, 8192))).toBeNull();
  });

  it('sends CPU-only work to nodes without free GPUs first, then to the tightest fit', () => {
    const nodes = [node('gpu', { H100: [0, 1] }), node('cpu-big', {}, 64), node('cpu-small', {}, 8)];
    expect(place(nodes, request(undefined, 4))).toMatchObject({
      nodeId: 'cpu-small',
      choice: null,
      gpuIndices: [],
    });
    expect(place(nodes, request(undefined, 16))).toMatchObject({ nodeId: 'cpu-big' });
    expect(place(nodes, request(undefined, 0.5, 300_000))).toBeNull();
  });

  it('honours a pinned node and does not change its input', () => {
    const nodes = [node('a', { T4: [0, 1] }), node('b', { T4: [3] })];
    const before = structuredClone(nodes);
    expect(place(nodes, { ...request('T4'), nodeId: 'a' })).toMatchObject({ nodeId: 'a', gpuIndices: [0] });
    expect(place(nodes, { ...request('T4:2'), nodeId: 'b' })).toBeNull();
    expect(nodes).toEqual(before);
  });

  it('gives back what release returns, so the same devices can be placed again', () => {
    const nodes = [node('a', { A10: [0, 1, 2, 3] })];
    const ask = request('A10:4');
    const decision = place(nodes, ask);
    if (!decision) throw new Error('expected a placement');
    applyDecision(nodes, ask, decision);
    expect(place(nodes, request('A10'))).toBeNull();
    releaseDecision(nodes, ask, decision);
    expect(nodes[0]).toEqual(node('a', { A10: [0, 1, 2, 3] }));
  });
});

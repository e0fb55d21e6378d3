import { describe, expect, it } from 'vitest';
import { discoverGpus } from './gpu-inventory.ts';
import { createLocalPlacement } from './placement.ts';
import { parseResourceRequest } from './resource-request.ts';

describe('createLocalPlacement', () => {
  it('assigns free devices, falls back down the list, and frees them on release', async () => {
    const placement = createLocalPlacement({
      inventory: await discoverGpus({
        declared: [
          { type: 'H100', count: 2 },
          { type: 'A100-80GB', count: 2 },
        ],
      }),
    });
    const a = placement.place('k1', parseResourceRequest({ cpu: 1, memoryMiB: 1024, gpu: 'H100:2' }));
    expect(a.gpus.map((g) => g.index)).toEqual([0, 1]);
    const b = placement.place(
      'k2',
      parseResourceRequest({ cpu: 1, memoryMiB: 1024, gpu: ['H100', 'A100-80GB'] }),
    );
    expect(b.choice).toEqual({ type: 'A100-80GB', count: 1 });
    expect(() =>
      placement.place('k3', parseResourceRequest({ cpu: 1, memoryMiB: 1024, gpu: 'H100' })),
    ).toThrow(/No H100:1 available: free here: A100-80GB:1 \(declared inventory\)/);
    placement.release('k1');
    expect(
      placement.place('k3', parseResourceRequest({ cpu: 1, memoryMiB: 1024, gpu: 'H100' })).gpus[0]?.index,
    ).toBe(0);
    expect(placement.free().map((g) => g.index)).toEqual([1, 3]);
  });

  it('places CPU-only requests anywhere and explains a GPU request on a GPU-less host', async () => {
    const placement = createLocalPlacement({
      inventory: await discoverGpus({ nvidiaSmiPath: '/nonexistent' }),
    });
    expect(placement.place('cpu', parseResourceRequest({ cpu: 1, memoryMiB: 512 })).gpus).toEqual([]);
    expect(() => placement.place('g', parseResourceRequest({ cpu: 1, memoryMiB: 512, gpu: 'T4' }))).toThrow(
      /No T4:1 available: this host has no GPUs \(nvidia-smi not found/,
    );
  });
});

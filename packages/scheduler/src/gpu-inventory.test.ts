import { chmod, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { discoverGpus, parseNvidiaSmiCsv } from './gpu-inventory.ts';

// Real output shape of `nvidia-smi --query-gpu=index,uuid,name,memory.total --format=csv,noheader,nounits`.
const SMI = `0, GPU-5c1e2a3b-0000-1111-2222-333344445555, NVIDIA H100 80GB HBM3, 81559
1, GPU-6d2f3b4c-0000-1111-2222-333344445555, NVIDIA A100-SXM4-40GB, 40960
2, GPU-7e304c5d-0000-1111-2222-333344445555, NVIDIA A100 80GB PCIe, 81920
3, GPU-8f415d6e-0000-1111-2222-333344445555, NVIDIA A10G, 23028
4, GPU-90526e7f-0000-1111-2222-333344445555, NVIDIA L40S, 46068
5, GPU-a1637f80-0000-1111-2222-333344445555, NVIDIA L4, 23034
6, GPU-b2748091-0000-1111-2222-333344445555, Tesla T4, 15360
7, GPU-c38591a2-0000-1111-2222-333344445555, NVIDIA RTX PRO 6000 Blackwell Server Edition, 97887
8, GPU-d496a2b3-0000-1111-2222-333344445555, Quadro RTX 8000, 49152
`;

describe('parseNvidiaSmiCsv', () => {
  it('maps product names to Kiln GPU types and keeps unknown products untyped', () => {
    const devices = parseNvidiaSmiCsv(SMI);
    expect(devices.map((d) => d.type)).toEqual([
      'H100',
      'A100-40GB',
      'A100-80GB',
      'A10',
      'L40S',
      'L4',
      'T4',
      'RTX-PRO-6000',
      undefined,
    ]);
    expect(devices[0]).toMatchObject({
      index: 0,
      memoryMiB: 81559,
      uuid: 'GPU-5c1e2a3b-0000-1111-2222-333344445555',
    });
  });
});

describe('discoverGpus', () => {
  it('labels a declared inventory as declared', async () => {
    const inventory = await discoverGpus({
      declared: [
        { type: 'H100', count: 2 },
        { type: 'T4', count: 1 },
      ],
    });
    expect(inventory.source).toBe('declared');
    expect(inventory.devices.map((d) => `${d.index}:${d.type}`)).toEqual(['0:H100', '1:H100', '2:T4']);
    expect(inventory.devices[0]?.productName).toContain('declared');
  });

  it('reports no GPUs with a reason when nvidia-smi is absent', async () => {
    const inventory = await discoverGpus({ nvidiaSmiPath: '/nonexistent/nvidia-smi' });
    expect(inventory).toMatchObject({ source: 'none', devices: [] });
    expect(inventory.note).toMatch(/nvidia-smi not found/);
  });

  it('runs nvidia-smi with the CSV query and parses what it prints', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kiln-smi-'));
    const fake = join(dir, 'nvidia-smi');
    // A stand-in executable: this machine has no NVIDIA driver, and the parser is what is under test.
    await writeFile(
      fake,
      `#!/bin/sh\n[ "$1" = "--query-gpu=index,uuid,name,memory.total" ] || exit 3\nprintf '%s\\n' "0, GPU-x, NVIDIA H200, 143771"\n`,
    );
    await chmod(fake, 0o755);
    const inventory = await discoverGpus({ nvidiaSmiPath: fake });
    expect(inventory.source).toBe('nvidia-smi');
    expect(inventory.devices).toEqual([
      { index: 0, uuid: 'GPU-x', productName: 'NVIDIA H200', type: 'H200', memoryMiB: 143771 },
    ]);
  });
});

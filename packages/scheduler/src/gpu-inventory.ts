import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { type GpuTypeName, gpuTypeFromProductName } from './gpu-types.ts';

/** One physical GPU on this host. `type` is undefined for products Kiln has no name for. */
export interface GpuDevice {
  index: number;
  uuid: string;
  productName: string;
  type: GpuTypeName | undefined;
  memoryMiB: number;
}

/** Where an inventory came from; `declared` means configured by hand, not seen on the hardware. */
export type InventorySource = 'nvidia-smi' | 'declared' | 'none';

export interface GpuInventory {
  source: InventorySource;
  devices: GpuDevice[];
  /** Why the inventory is empty or declared, for logs and the UI. */
  note?: string;
}

export interface DiscoverGpusOptions {
  /** Use this inventory instead of probing (development, tests); it is labelled `declared`. */
  declared?: { type: GpuTypeName; count: number }[];
  nvidiaSmiPath?: string;
}

const execFileAsync = promisify(execFile);
const QUERY = 'index,uuid,name,memory.total';

/** Parses `nvidia-smi --query-gpu=index,uuid,name,memory.total --format=csv,noheader,nounits` output. */
export function parseNvidiaSmiCsv(csv: string): GpuDevice[] {
  return csv
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.length > 0)
    .map((line) => {
      const [index, uuid, productName, memory] = line.split(',').map((part) => part.trim());
      const memoryMiB = Number(memory);
      return {
        index: Number(index),
        uuid: uuid ?? '',
        productName: productName ?? '',
        memoryMiB,
        type: gpuTypeFromProductName(productName ?? '', memoryMiB),
      };
    });
}

function declaredInventory(declared: { type: GpuTypeName; count: number }[]): GpuInventory {
  const devices: GpuDevice[] = [];
  for (const entry of declared) {
    for (let i = 0; i < entry.count; i++) {
      const index = devices.length;
      devices.push({
        index,
        uuid: `declared-${index}`,
        productName: `${entry.type} (declared)`,
        type: entry.type,
        memoryMiB: 0,
      });
    }
  }
  return { source: 'declared', devices, note: 'declared inventory: not probed from hardware' };
}

/** Finds this host's GPUs with nvidia-smi, or returns the declared inventory when one is given. */
export async function discoverGpus(options: DiscoverGpusOptions = {}): Promise<GpuInventory> {
  if (options.declared) return declaredInventory(options.declared);
  const nvidiaSmi = options.nvidiaSmiPath ?? 'nvidia-smi';
  try {
    const { stdout } = await execFileAsync(
      nvidiaSmi,
      [`--query-gpu=${QUERY}`, '--format=csv,noheader,nounits'],
      {
        timeout: 10_000,
      },
    );
    return { source: 'nvidia-smi', devices: parseNvidiaSmiCsv(stdout) };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const note =
      code === 'ENOENT'
        ? 'nvidia-smi not found: no NVIDIA GPUs on this host'
        : `nvidia-smi failed: ${String(error)}`;
    return { source: 'none', devices: [], note };
  }
}

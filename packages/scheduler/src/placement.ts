import { DomainError } from '@kiln/core';
import type { GpuDevice, GpuInventory } from './gpu-inventory.ts';
import type { GpuChoice, NormalizedResourceRequest } from './resource-request.ts';

/** What a container was given on this host. */
export interface Placement {
  ownerId: string;
  gpus: GpuDevice[];
  /** The GPU choice that was satisfied, or null for a CPU-only request. */
  choice: GpuChoice | null;
}

/** Assigns free local devices to containers and takes them back. */
export interface LocalPlacement {
  readonly inventory: GpuInventory;
  /** Places a request, trying GPU choices in order; throws GPU_UNAVAILABLE when none fits now. */
  place(ownerId: string, request: NormalizedResourceRequest): Placement;
  release(ownerId: string): void;
  /** Devices not assigned to anyone. */
  free(): GpuDevice[];
}

/** Creates placement over one host's GPU inventory. */
export function createLocalPlacement(options: { inventory: GpuInventory }): LocalPlacement {
  const { inventory } = options;
  const assigned = new Map<string, Placement>();
  const busy = new Set<number>();

  const free = () => inventory.devices.filter((device) => !busy.has(device.index));

  return {
    inventory,
    free,
    place(ownerId, request) {
      if (assigned.has(ownerId)) throw new DomainError('CONFLICT', `${ownerId} is already placed`);
      if (request.gpu.length === 0) {
        const placement = { ownerId, gpus: [], choice: null };
        assigned.set(ownerId, placement);
        return placement;
      }
      for (const choice of request.gpu) {
        const candidates = free().filter((device) => device.type === choice.type);
        if (candidates.length >= choice.count) {
          const gpus = candidates.slice(0, choice.count);
          for (const gpu of gpus) busy.add(gpu.index);
          const placement = { ownerId, gpus, choice };
          assigned.set(ownerId, placement);
          return placement;
        }
      }
      const wanted = request.gpu.map((c) => `${c.type}:${c.count}`).join(' or ');
      const reason =
        inventory.devices.length === 0
          ? `this host has no GPUs (${inventory.note ?? inventory.source})`
          : `free here: ${summarize(free()) || 'none'} (${inventory.source} inventory)`;
      throw new DomainError('GPU_UNAVAILABLE', `No ${wanted} available: ${reason}.`, { wanted });
    },
    release(ownerId) {
      const placement = assigned.get(ownerId);
      if (!placement) return;
      for (const gpu of placement.gpus) busy.delete(gpu.index);
      assigned.delete(ownerId);
    },
  };
}

function summarize(devices: GpuDevice[]): string {
  const counts = new Map<string, number>();
  for (const device of devices) {
    const name = device.type ?? device.productName;
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  return [...counts].map(([name, count]) => `${name}:${count}`).join(', ');
}

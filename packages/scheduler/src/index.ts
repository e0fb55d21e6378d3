export {
  type DiscoverGpusOptions,
  discoverGpus,
  type GpuDevice,
  type GpuInventory,
  type InventorySource,
  parseNvidiaSmiCsv,
} from './gpu-inventory.ts';
export { findGpuType, GPU_TYPE_NAMES, GPU_TYPES, type GpuType, type GpuTypeName } from './gpu-types.ts';
export { createLocalPlacement, type LocalPlacement, type Placement } from './placement.ts';
export {
  type GpuChoice,
  type NormalizedResourceRequest,
  parseGpuString,
  parseResourceRequest,
} from './resource-request.ts';

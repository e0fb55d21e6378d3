export { GPU_TYPE_NAMES, GPU_TYPES, type GpuType, type GpuTypeName, findGpuType } from './gpu-types.ts';
export {
  type GpuChoice,
  type NormalizedResourceRequest,
  parseGpuString,
  parseResourceRequest,
} from './resource-request.ts';
export {
  type DiscoverGpusOptions,
  type GpuDevice,
  type GpuInventory,
  type InventorySource,
  discoverGpus,
  parseNvidiaSmiCsv,
} from './gpu-inventory.ts';
export { type LocalPlacement, type Placement, createLocalPlacement } from './placement.ts';

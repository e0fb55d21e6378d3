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
export type { OperatorMaximums, SchedulerPlanLimits, WorkspaceUsage } from './policy/limits.ts';
export { PLAN_NAMES } from './policy/limits.ts';
export {
  type GpuChoice,
  type NormalizedResourceRequest,
  parseGpuString,
  parseResourceRequest,
} from './resource-request.ts';
export { type ContainerFilter, createScheduler, type Scheduler } from './scheduler.ts';
export { DEFAULT_SCHEDULER_OPTIONS, type SchedulerOptions } from './scheduler-options.ts';
export type { Assessment } from './store/assess.ts';
export type { EventPage } from './store/events.ts';
export type { NodeReport, RegisterNodeInput } from './store/nodes.ts';
export type { RefusedRevival } from './store/revive.ts';
export type { VolumeNode } from './store/volumes.ts';
export type {
  ContainerKind,
  ContainerRequest,
  ContainerState,
  ContainerTransition,
  ContainerView,
  GpuSource,
  GpuView,
  NodeView,
  QueueStatus,
  StopCode,
} from './types.ts';

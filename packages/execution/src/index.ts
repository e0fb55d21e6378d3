export { selectCells } from './cell-selection.ts';
export { toCodePoints, toUtf16 } from './code-points.ts';
export { createExecutionService } from './execution-service.ts';
export {
  EXECUTION_STATE_KEY,
  KERNEL_MESSAGE_KEY,
  readExecutionState,
  resetExecutionState,
} from './execution-state.ts';
export { createMemoryKernelStore } from './kernel-store.ts';
export { type KernelTakeoverOptions, startKernelTakeover } from './kernel-takeover.ts';
export {
  createMemoryOverflowStore,
  type MemoryOverflowOptions,
  OVERFLOW_KEY_PATTERN,
  type OverflowDownload,
  type OverflowStore,
  overflowNote,
} from './overflow-store.ts';
export { createPostgresKernelStore, type PostgresKernelStoreOptions } from './postgres-kernel-store.ts';
export { createPostgresOverflowStore, type PostgresOverflowOptions } from './postgres-overflow-store.ts';
export {
  type CellRunWindow,
  type CompletionResult,
  DEFAULT_LIMITS,
  type ExecutionErrorPayload,
  type ExecutionGateway,
  type ExecutionLimits,
  type ExecutionService,
  type ExecutionServiceOptions,
  type ExecutionStateView,
  type InspectionResult,
  type KernelConnection,
  type KernelGrant,
  type KernelImage,
  type KernelQueueView,
  type KernelRecord,
  type KernelResources,
  type KernelStatus,
  type KernelStore,
  type QueuedCellView,
  type Requester,
  type ResumeResult,
  type RunCostView,
  type RunRequest,
  type RunTarget,
  type RunTicket,
  type StartKernelOptions,
} from './types.ts';
export {
  createWebProcessLease,
  type WebProcessLease,
  type WebProcessLeaseOptions,
} from './web-process-lease.ts';

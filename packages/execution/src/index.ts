export { selectCells } from './cell-selection.ts';
export { toCodePoints, toUtf16 } from './code-points.ts';
export { createExecutionService } from './execution-service.ts';
export {
  EXECUTION_STATE_KEY,
  readExecutionState,
  resetExecutionState,
} from './execution-state.ts';
export { createMemoryKernelStore } from './kernel-store.ts';
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
  type KernelQueueView,
  type KernelRecord,
  type KernelResources,
  type KernelStatus,
  type KernelStore,
  type QueuedCellView,
  type Requester,
  type ResumeResult,
  type RunRequest,
  type RunTarget,
  type RunTicket,
  type StartKernelOptions,
} from './types.ts';

export {
  type CapturedFunction,
  type CapturedParameter,
  captureFunction,
  type PythonRunner,
  runscPython,
} from './capture/dependency-capture.ts';
export type { CallOutcome, ReplicaStatus } from './runtime/endpoint-pool.ts';
export {
  type CallAnswer,
  createEndpointRuntime,
  type EndpointRuntime,
  type EndpointRuntimeOptions,
  ROUTE_CACHE_MS,
} from './runtime/endpoint-runtime.ts';
export { createKernelReplicaHost, type KernelReplicaHostOptions } from './runtime/kernel-replica-host.ts';
export {
  type ExecuteOutcome,
  type ReplicaHandle,
  type ReplicaHost,
  type ReplicaRequest,
  unavailableReplicaHost,
} from './runtime/replica-host.ts';
export type { Actor, EndpointTokenView, EndpointView } from './store/endpoint-store.ts';
export type { DiffLine } from './store/line-diff.ts';
export type { RequestStats, RequestView } from './store/request-log.ts';
export { DEFAULT_SETTINGS, type EndpointSettings } from './store/settings.ts';
export { BASE_SANDBOX, type VersionSandbox } from './store/version-sandbox.ts';
export type { NewVersion, VersionOrigin, VersionView } from './store/version-store.ts';

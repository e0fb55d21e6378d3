import type { GpuTypeName } from './gpu-types.ts';
import type { GpuChoice } from './resource-request.ts';

export type ContainerKind = 'kernel' | 'endpoint_replica' | 'sandbox';

/**
 * queued → starting → running ⇄ hibernated; any live state → stopped (final) or lost. A lost container
 * comes back (to running or hibernated) when its node registers again with it alive, or is given up
 * (stopped).
 */
export type ContainerState = 'queued' | 'starting' | 'running' | 'hibernated' | 'stopped' | 'lost';

/** Why a container ended, for code; `stopReason` says it in words. */
export type StopCode =
  | 'stopped'
  | 'exited'
  | 'start_failed'
  | 'cancelled'
  | 'queue_timeout'
  | 'node_lost'
  /** It waited, but no node could ever run it any more (or its volumes' node was lost). */
  | 'unplaceable';

/** Where a node's GPU list came from; `declared` GPUs were configured by hand and never probed. */
export type GpuSource = 'nvidia-smi' | 'declared' | 'none';

/** What the caller asks for: `resources` is untrusted input for `parseResourceRequest`. */
export interface ContainerRequest {
  workspaceId: string;
  kind: ContainerKind;
  /** The notebook, endpoint or sandbox the container serves. */
  ownerId: string;
  /** The user who asked, for usage by member. */
  requestedById?: string | null;
  /** `{ cpu, memoryMiB, gpu? }`, where gpu is a GPU string or a fallback list ("H100:2"). */
  resources: unknown;
  /** What to do when nothing fits now: wait in the queue (default) or refuse with GPU_UNAVAILABLE. */
  whenBusy?: 'queue' | 'refuse';
  /** How long it may wait in the queue; defaults to the scheduler's `queueTimeoutMs`. */
  queueTimeoutMs?: number;
  /** Ids of the workspace's named volumes it mounts: it runs only on the node that holds them. */
  volumes?: string[];
  /**
   * Whether it mounts the workspace's /workspace folder (every gateway sandbox does): it runs only on
   * the node whose disk holds it, and the first such container makes its node that one.
   */
  mountsWorkspace?: boolean;
}

export interface QueueStatus {
  /** 1 for the next request to be placed among those wanting the same resources. */
  position: number;
  /** Requests ahead of this one that want the same GPU type (or CPU, or node). */
  ahead: number;
  /** For people: "waiting for an H100: 2 ahead". */
  reason: string;
  /** When it gives up. */
  deadline: Date;
}

/** A container as the API shows it. */
export interface ContainerView {
  id: string;
  workspaceId: string;
  kind: ContainerKind;
  ownerId: string;
  requestedById: string | null;
  requested: { cpu: number; memoryMiB: number; gpu: GpuChoice[] };
  state: ContainerState;
  /** The node it runs (or ran, or is hibernated) on. */
  node: { id: string; url: string } | null;
  /** The GPUs it holds (or held last); `source: 'declared'` marks an inventory configured by hand. */
  gpu: { type: GpuTypeName; count: number; indices: number[]; source: GpuSource } | null;
  queue: QueueStatus | null;
  requestedAt: Date;
  queuedAt: Date | null;
  startedAt: Date | null;
  runningAt: Date | null;
  hibernatedAt: Date | null;
  endedAt: Date | null;
  stateChangedAt: Date;
  stop: { code: StopCode; reason: string } | null;
}

/**
 * One state change, as written to ContainerEvent in the same transaction. `nodeId`/`gpu` say what the
 * container holds from `at` on: GPUs only while starting or running. Billing meters from these.
 */
export interface ContainerTransition {
  /** Opaque position for `eventsAfter`. */
  cursor: string;
  containerId: string;
  /** 1, 2, 3... per container, with no gaps. */
  seq: number;
  workspaceId: string;
  kind: ContainerKind;
  ownerId: string;
  requestedById: string | null;
  from: ContainerState | null;
  to: ContainerState;
  /** The database's clock when the change was written. */
  at: Date;
  nodeId: string | null;
  cpu: number;
  memoryMiB: number;
  gpu: { type: GpuTypeName; count: number; indices: number[] } | null;
  code: StopCode | null;
  reason: string | null;
}

export interface GpuView {
  index: number;
  uuid: string;
  productName: string;
  /** Kiln's name for it; null for products Kiln cannot place. */
  type: GpuTypeName | null;
  memoryMiB: number;
  /** True when configured by hand for development rather than seen by nvidia-smi. */
  declared: boolean;
  /** The container holding it now. */
  containerId: string | null;
}

export interface NodeView {
  id: string;
  url: string;
  state: 'active' | 'lost';
  cpu: number;
  memoryMiB: number;
  gpuSource: GpuSource;
  gpuNote: string | null;
  gpus: GpuView[];
  /** What starting and running containers and warm spares leave free (zero on a lost node). */
  free: { cpu: number; memoryMiB: number; gpus: Partial<Record<GpuTypeName, number>> };
  /** Memory the node's warm spare sandboxes use, as of its last heartbeat. */
  reservedMemoryMiB: number;
  registeredAt: Date;
  heartbeatAt: Date;
  lostAt: Date | null;
  lostReason: string | null;
}

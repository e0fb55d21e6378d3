/** Container kinds as the scheduler names them. */
export type MeteredKind = 'kernel' | 'endpoint_replica' | 'sandbox';
export type MeteredState = 'queued' | 'starting' | 'running' | 'hibernated' | 'stopped' | 'lost';

/**
 * One container state change, as the scheduler's `eventsAfter` returns it (its ContainerTransition).
 * Declared here structurally so billing does not depend on the scheduler, which depends on billing.
 */
export interface MeterEvent {
  containerId: string;
  seq: number;
  workspaceId: string;
  kind: MeteredKind;
  ownerId: string;
  requestedById: string | null;
  from: MeteredState | null;
  to: MeteredState;
  at: Date;
  nodeId: string | null;
  cpu: number;
  memoryMiB: number;
  gpu: { type: string; count: number } | null;
  code: string | null;
}

export interface MeterEventPage {
  events: MeterEvent[];
  cursor: string;
}

/** Reads state changes after a cursor, exactly once in order (the scheduler's `eventsAfter`). */
export type EventSource = (cursor: string | null, limit: number) => Promise<MeterEventPage>;

import { randomUUID } from 'node:crypto';
import type { EventSource, MeterEvent, MeteredState } from '../src/meter/types.ts';

/** An in-memory event log with the scheduler's cursor contract, for driving the meter in tests. */
export function createEventLog() {
  const events: MeterEvent[] = [];
  const source: EventSource = async (cursor, limit) => {
    const after = cursor ? Number(cursor) : 0;
    const page = events.slice(after, after + limit);
    return { events: page, cursor: String(after + page.length) };
  };
  return { events, source };
}

export interface Resources {
  cpu: number;
  memoryMiB: number;
  gpu: { type: string; count: number } | null;
}

/** One container's state changes, numbered like the scheduler numbers them. */
export function containerEvents(
  workspaceId: string,
  changes: { to: MeteredState; at: Date; code?: string }[],
  resources: Resources,
  options: { ownerId?: string; memberId?: string | null; nodeId?: string; containerId?: string } = {},
): MeterEvent[] {
  const containerId = options.containerId ?? randomUUID();
  let from: MeteredState | null = null;
  return changes.map((change, index) => {
    const event: MeterEvent = {
      containerId,
      seq: index + 1,
      workspaceId,
      kind: 'kernel',
      ownerId: options.ownerId ?? 'notebook-1',
      requestedById: options.memberId ?? null,
      from,
      to: change.to,
      at: change.at,
      nodeId: options.nodeId ?? 'node-a',
      cpu: resources.cpu,
      memoryMiB: resources.memoryMiB,
      gpu: resources.gpu,
      code: change.code ?? null,
    };
    from = change.to;
    return event;
  });
}

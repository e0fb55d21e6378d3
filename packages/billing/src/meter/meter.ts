import type { Db } from '@kiln/db';
import { applyEvents } from './apply-events.ts';
import type { EventSource } from './types.ts';

export interface MeterOptions {
  db: Db;
  /** The scheduler's `eventsAfter`. */
  events: EventSource;
  /** Name of this consumer's cursor row; one per ledger. */
  cursorName: string;
  /** An open slice whose last heartbeat is older than this is orphaned and closed at that heartbeat. */
  staleAfterMs: number;
  pageSize: number;
  transactionTimeoutMs: number;
}

export const DEFAULT_METER_OPTIONS: Omit<MeterOptions, 'db' | 'events'> = {
  cursorName: 'usage-ledger',
  staleAfterMs: 45_000,
  pageSize: 500,
  transactionTimeoutMs: 30_000,
};

export interface Meter {
  /** Applies every settled state change not yet in the ledger; returns how many it applied. */
  sync(): Promise<number>;
  /**
   * Carries node heartbeats into open slices, resumes slices whose node came back, and closes slices
   * orphaned by a dead process at their last heartbeat. Call at least every 15 s.
   */
  heartbeat(): Promise<{ extended: number; resumed: number; orphaned: number }>;
  /** sync() then heartbeat(): what a web process runs on an interval. */
  tick(): Promise<void>;
}

// Any constant; serializes ledger consumers so a cursor only ever moves forward.
const LEDGER_LOCK_KEY = 0x6b696c6e01;

/** The usage ledger's writer: turns container state changes and heartbeats into usage slices. */
export function createMeter(options: Partial<MeterOptions> & Pick<MeterOptions, 'db' | 'events'>): Meter {
  const settings: MeterOptions = { ...DEFAULT_METER_OPTIONS, ...options };
  const { db } = settings;

  async function syncPage(): Promise<number> {
    return db.$transaction(
      async (tx) => {
        await tx.$executeRaw`SELECT pg_advisory_xact_lock(${LEDGER_LOCK_KEY}::bigint)`;
        const row = await tx.billingCursor.findUnique({ where: { name: settings.cursorName } });
        const page = await settings.events(row?.cursor ?? null, settings.pageSize);
        if (page.events.length === 0) return 0;
        await applyEvents(tx, page.events);
        await tx.billingCursor.upsert({
          where: { name: settings.cursorName },
          create: { name: settings.cursorName, cursor: page.cursor, updatedAt: new Date() },
          update: { cursor: page.cursor, updatedAt: new Date() },
        });
        return page.events.length;
      },
      { maxWait: settings.transactionTimeoutMs, timeout: settings.transactionTimeoutMs },
    );
  }

  async function sync(): Promise<number> {
    let total = 0;
    for (;;) {
      const applied = await syncPage();
      total += applied;
      if (applied < settings.pageSize) return total;
    }
  }

  async function heartbeat() {
    const staleMs = settings.staleAfterMs;
    return db.$transaction(
      async (tx) => {
        await tx.$executeRaw`SELECT pg_advisory_xact_lock(${LEDGER_LOCK_KEY}::bigint)`;
        const extended = await tx.$executeRaw`
          UPDATE "UsageSlice" s SET "heartbeatAt" = n."heartbeatAt"
          FROM "Node" n
          WHERE s."endAt" IS NULL AND n.id = s."nodeId" AND n.state = 'active'
            AND n."heartbeatAt" > s."heartbeatAt"`;
        // A slice closed as orphaned whose container is still running the same period on a live node:
        // the process came back, so billing resumes from the node's first heartbeat after the gap.
        const resumed = await tx.$executeRaw`
          INSERT INTO "UsageSlice" (id, "workspaceId", "containerId", "periodSeq", kind, "ownerId", "memberId",
            "nodeId", "gpuType", "gpuCount", "cpuMillicores", "memoryMiB", "priceVersionId", "gpuRateFemto",
            "cpuRateFemto", "memRateFemto", "startAt", "heartbeatAt")
          SELECT last."containerId" || ':' || last."periodSeq" || ':' || (extract(epoch FROM n."heartbeatAt") * 1000)::bigint,
            last."workspaceId", last."containerId", last."periodSeq", last.kind, last."ownerId", last."memberId",
            last."nodeId", last."gpuType", last."gpuCount", last."cpuMillicores", last."memoryMiB", last."priceVersionId",
            last."gpuRateFemto", last."cpuRateFemto", last."memRateFemto", n."heartbeatAt", n."heartbeatAt"
          FROM (
            SELECT DISTINCT ON (s."containerId") s.* FROM "UsageSlice" s
            WHERE s."endReason" = 'orphaned' AND s."endAt" > clock_timestamp() - interval '1 day'
            ORDER BY s."containerId", s."startAt" DESC
          ) last
          JOIN "Container" c ON c.id = last."containerId"
          JOIN "Node" n ON n.id = last."nodeId"
          WHERE last."endReason" = 'orphaned' AND c.state = 'running' AND c."eventSeq" = last."periodSeq"
            AND n.state = 'active' AND n."heartbeatAt" > last."endAt"
            AND n."heartbeatAt" > clock_timestamp() - ${staleMs}::int * interval '1 millisecond'
          ON CONFLICT DO NOTHING`;
        const orphaned = await tx.$executeRaw`
          UPDATE "UsageSlice" SET "endAt" = "heartbeatAt", "endReason" = 'orphaned'
          WHERE "endAt" IS NULL AND "heartbeatAt" < clock_timestamp() - ${staleMs}::int * interval '1 millisecond'`;
        return { extended, resumed, orphaned };
      },
      { maxWait: settings.transactionTimeoutMs, timeout: settings.transactionTimeoutMs },
    );
  }

  return {
    sync,
    heartbeat,
    async tick() {
      await sync();
      await heartbeat();
    },
  };
}

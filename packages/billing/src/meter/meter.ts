import type { Db, Prisma } from '@kiln/db';
import type { PriceBook } from '../price-book.ts';
import { priceVersionAt } from '../price-versions.ts';
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
  /** Pages applied in one transaction (one lock, cursor and price read, one commit for all of them). */
  pagesPerTransaction: number;
  transactionTimeoutMs: number;
}

export const DEFAULT_METER_OPTIONS: Omit<MeterOptions, 'db' | 'events'> = {
  cursorName: 'usage-ledger',
  staleAfterMs: 45_000,
  // Each page is one statement, whose fixed cost in Postgres (parse, plan, the daily rollup's
  // statement triggers) is shared by this many events: a backlog catches up with up to 16,000 events
  // per transaction.
  pageSize: 2000,
  pagesPerTransaction: 8,
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

interface VersionJson {
  id: number;
  from: string;
  book: PriceBook;
}

/** The usage ledger's writer: turns container state changes and heartbeats into usage slices. */
export function createMeter(options: Partial<MeterOptions> & Pick<MeterOptions, 'db' | 'events'>): Meter {
  const settings: MeterOptions = { ...DEFAULT_METER_OPTIONS, ...options };
  const { db } = settings;

  // Every version, oldest first (a handful: the operator publishes them); each event takes the last one
  // in force at its time.
  async function readState(tx: Prisma.TransactionClient) {
    const [row] = await tx.$queryRaw<{ cursor: string | null; versions: VersionJson[] | null }[]>`
      SELECT "billing_cursor_locked"(${settings.cursorName}, ${LEDGER_LOCK_KEY}::bigint) AS cursor,
        (SELECT json_agg(json_build_object('id', v.id, 'from', v."effectiveFrom", 'book', v.prices)
                         ORDER BY v."effectiveFrom", v.id) FROM "PriceVersion" v) AS versions`;
    const versions = (row?.versions ?? []).map((v) => ({ id: v.id, from: Date.parse(v.from), book: v.book }));
    return { cursor: row?.cursor ?? null, versions };
  }

  // Per transaction: the lock with the cursor and price versions, then for each of up to
  // `pagesPerTransaction` pages its events and one statement that applies them and moves the cursor,
  // then COMMIT: 3 + n round trips for n pages instead of 4n. A crash anywhere in it rolls every page
  // of it back with the cursor, so the next run applies them again, once.
  async function syncPages(): Promise<{ applied: number; more: boolean }> {
    return db.$transaction(
      async (tx) => {
        let { cursor, versions } = await readState(tx);
        let applied = 0;
        for (let pages = 0; pages < settings.pagesPerTransaction; pages++) {
          const page = await settings.events(cursor, settings.pageSize);
          if (page.events.length === 0) return { applied, more: false };
          // Only a database without any version yet: record the default book, then read again.
          if (versions.length === 0) {
            await priceVersionAt(tx, new Date(0));
            ({ versions } = await readState(tx));
          }
          await applyEvents(tx, page.events, versions, { name: settings.cursorName, value: page.cursor });
          applied += page.events.length;
          cursor = page.cursor;
          if (page.events.length < settings.pageSize) return { applied, more: false };
        }
        return { applied, more: true };
      },
      { maxWait: settings.transactionTimeoutMs, timeout: settings.transactionTimeoutMs },
    );
  }

  async function sync(): Promise<number> {
    let total = 0;
    for (;;) {
      const { applied, more } = await syncPages();
      total += applied;
      if (!more) return total;
    }
  }

  async function heartbeat() {
    const staleMs = settings.staleAfterMs;
    return db.$transaction(
      async (tx) => {
        await tx.$executeRaw`SELECT pg_advisory_xact_lock(${LEDGER_LOCK_KEY}::bigint)`;
        // A node registered again (restarted after a crash) stops the kernels it lost before it beats
        // for the first time: until then its registration beat is not carried into slices older than
        // it (their stop may still be on its way); after it, the containers still running are ones it
        // took back. Never for a container the scheduler already ended.
        const extended = await tx.$executeRaw`
          UPDATE "UsageSlice" s SET "heartbeatAt" = n."heartbeatAt"
          FROM "Node" n
          WHERE s."endAt" IS NULL AND n.id = s."nodeId" AND n.state = 'active'
            AND n."heartbeatAt" > s."heartbeatAt"
            AND (n."registeredAt" <= s."heartbeatAt" OR n."heartbeatAt" > n."registeredAt")
            AND NOT EXISTS (SELECT 1 FROM "Container" c WHERE c.id = s."containerId" AND c.state <> 'running')`;
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

import { PLANS } from '@kiln/billing';
import type { Db } from '@kiln/db';

/** One call as the log keeps it; `id` is the request id the caller got in `x-kiln-request-id`. */
export interface RequestEntry {
  id: string;
  endpointId: string;
  workspaceId: string;
  versionId: string | null;
  at: Date;
  method: string;
  status: number;
  latencyMs: number;
  replicaId: string | null;
  costNanos: bigint;
  error: string | null;
  /** The schedule that made the call; null for an HTTP caller. */
  scheduleId?: string | null;
}

export interface RequestView
  extends Omit<RequestEntry, 'costNanos' | 'workspaceId' | 'endpointId' | 'scheduleId'> {
  scheduleId: string | null;
  /** Nano-dollars (1e-9 $), as a number: one request never costs anywhere near 2^53 of them. */
  costNanos: number;
}

export interface RequestStats {
  count: number;
  errors: number;
  p50Ms: number | null;
  p99Ms: number | null;
  /** Mean nano-dollars per request. */
  costPerRequestNanos: number | null;
  since: Date;
}

const row = (entry: RequestEntry) => ({ ...entry, error: entry.error?.slice(0, 4000) ?? null });

/**
 * One INSERT of many rows from one array per column, as raw SQL: its text is the same whatever the batch
 * size, where createMany had Prisma's query compiler plan every batch anew (it was most of the CPU a hot
 * endpoint's calls cost this process, measured with bench/endpoints/proxy-cpu.ts).
 */
function insertRows(db: Db, rows: ReturnType<typeof row>[]): Promise<number> {
  const column = <T>(pick: (entry: ReturnType<typeof row>) => T) => rows.map(pick);
  return db.$executeRaw`
    INSERT INTO "EndpointRequest"
      ("id", "endpointId", "workspaceId", "versionId", "at", "method", "status", "latencyMs", "replicaId",
       "costNanos", "error", "scheduleId")
    SELECT * FROM unnest(
      ${column((r) => r.id)}::uuid[], ${column((r) => r.endpointId)}::uuid[],
      ${column((r) => r.workspaceId)}::uuid[], ${column((r) => r.versionId)}::uuid[],
      ${column((r) => r.at.toISOString())}::timestamptz[], ${column((r) => r.method)}::text[],
      ${column((r) => r.status)}::int[], ${column((r) => r.latencyMs)}::int[],
      ${column((r) => r.replicaId)}::text[], ${column((r) => r.costNanos.toString())}::bigint[],
      ${column((r) => r.error)}::text[], ${column((r) => r.scheduleId ?? null)}::uuid[]
    )`;
}

/**
 * The request log: one row per call, read back for the endpoint page, pruned per plan retention. Rows
 * are written together every `flushMs` (default 100 ms) rather than one insert per call, so a hot
 * endpoint's calls do not each wait behind a write.
 */
export function createRequestLog(options: { db: Db; flushMs?: number }) {
  const { db } = options;
  const flushMs = options.flushMs ?? 100;
  let pending: RequestEntry[] = [];
  let timer: NodeJS.Timeout | null = null;
  let written: Promise<void> = Promise.resolve();

  async function write(batch: RequestEntry[]): Promise<void> {
    try {
      await insertRows(db, batch.map(row));
    } catch {
      // One bad row (say, of an endpoint deleted meanwhile) must not lose the others: write them singly.
      for (const entry of batch)
        await db.endpointRequest
          .create({ data: row(entry) })
          .catch((error: unknown) =>
            console.error(`[endpoints] could not log request ${entry.id}: ${String(error)}`),
          );
    }
  }

  /** Writes what is queued; resolves once every row recorded so far is in Postgres (or reported). */
  function flush(): Promise<void> {
    if (timer) clearTimeout(timer);
    timer = null;
    const batch = pending;
    pending = [];
    if (batch.length > 0) written = written.then(() => write(batch));
    return written;
  }

  return {
    /** Queues a call's row; it is in Postgres within `flushMs` (or at once past 500 queued). */
    record(entry: RequestEntry): void {
      pending.push(entry);
      if (pending.length >= 500) void flush();
      else if (!timer) {
        timer = setTimeout(() => void flush(), flushMs);
        timer.unref();
      }
    },

    flush,

    async recent(workspaceId: string, endpointId: string, limit = 50): Promise<RequestView[]> {
      const rows = await db.endpointRequest.findMany({
        where: { workspaceId, endpointId },
        orderBy: { at: 'desc' },
        take: Math.min(Math.max(1, limit), 500),
      });
      return rows.map(({ workspaceId: _w, endpointId: _e, costNanos, ...row }) => ({
        ...row,
        costNanos: Number(costNanos),
      }));
    },

    /** Latency percentiles and mean cost of the calls since `since` (default: the last 24 hours). */
    async stats(workspaceId: string, endpointId: string, since = new Date(Date.now() - 86_400_000)) {
      const [row] = await db.$queryRaw<
        { count: bigint; errors: bigint; p50: number | null; p99: number | null; cost: number | null }[]
      >`
        SELECT count(*) AS count,
               count(*) FILTER (WHERE status >= 500) AS errors,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY "latencyMs") AS p50,
               percentile_cont(0.99) WITHIN GROUP (ORDER BY "latencyMs") AS p99,
               avg("costNanos")::float8 AS cost
        FROM "EndpointRequest"
        WHERE "workspaceId" = ${workspaceId}::uuid AND "endpointId" = ${endpointId}::uuid AND at >= ${since}`;
      return {
        count: Number(row?.count ?? 0),
        errors: Number(row?.errors ?? 0),
        p50Ms: row?.p50 ?? null,
        p99Ms: row?.p99 ?? null,
        costPerRequestNanos: row?.cost ?? null,
        since,
      } satisfies RequestStats;
    },

    /** Deletes calls older than each workspace's plan keeps them (Starter 1 day, Team 30 days). */
    async prune(now = new Date()): Promise<number> {
      let deleted = 0;
      for (const [plan, limits] of Object.entries(PLANS)) {
        if (limits.logRetentionDays === null) continue;
        const before = new Date(now.getTime() - limits.logRetentionDays * 86_400_000);
        deleted += await db.$executeRaw`
          DELETE FROM "EndpointRequest" r USING "Workspace" w
          WHERE r."workspaceId" = w.id AND w.plan::text = ${plan} AND r.at < ${before}`;
      }
      return deleted;
    },
  };
}

export type RequestLog = ReturnType<typeof createRequestLog>;

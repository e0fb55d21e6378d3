import { type Db, Prisma } from '@kiln/db';
import Stripe from 'stripe';
import { type AlertNotifier, raiseAlert } from '../account/alerts.ts';
import { gpuEventName } from './catalog.ts';

const MINUTE = 60_000;
const WINDOW_DAYS = 35;

export interface OutboxOptions {
  /** Minutes are rolled up this long after they end, so heartbeats and closing events are in. */
  settleMs: number;
  /** Rows older than this are never sent (Stripe refuses timestamps past 35 days): rejected instead. */
  maxAgeMs: number;
  /** Customer+meter pairs sent at once; within a pair, one call at a time. */
  concurrency: number;
  notify?: AlertNotifier;
}

export const DEFAULT_OUTBOX_OPTIONS: OutboxOptions = {
  settleMs: 2 * MINUTE,
  maxAgeMs: (WINDOW_DAYS - 1) * 86_400_000,
  concurrency: 4,
};

// Any constant; one rollup at a time across processes, so each run's key is new.
const ROLLUP_LOCK_KEY = 0x6b696c6e02;

/**
 * The rollup id, which is also the meter event identifier and the idempotency key (≤ 100 chars): the
 * meter, the minute the usage belongs to, and the run that rolled it up (usage of a minute that reaches
 * the ledger after its run, a slice closed or ingested late, goes out in a later run's own row).
 */
export function rollupId(workspaceId: string, eventName: string, windowStart: Date, runUntil: Date): string {
  return `${workspaceId}:${eventName}:${Math.floor(windowStart.getTime() / MINUTE)}:${Math.floor(runUntil.getTime() / MINUTE)}`;
}

/**
 * Rolls the ledger up into outbox rows per workspace with a Stripe customer, meter and minute, in whole
 * milli-units (GPU-ms per type, CPU core-ms at the billed minimum, memory GiB-ms). Each slice records
 * how far it was rolled up, moved in the statement that reads it, and only slices with usage left are
 * read (a partial index): every millisecond of a slice is rolled up once, whenever it reaches the
 * ledger, and a run costs what changed since the last one, not the ledger's size.
 */
export async function rollupUsage(db: Db, now: Date, options: Partial<OutboxOptions> = {}): Promise<number> {
  const settings = { ...DEFAULT_OUTBOX_OPTIONS, ...options };
  return db.$transaction(
    async (tx) => {
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(${ROLLUP_LOCK_KEY}::bigint)`;
      const cursor = await tx.billingCursor.findUnique({ where: { name: 'usage-rollup' } });
      const until = new Date(Math.floor((now.getTime() - settings.settleMs) / MINUTE) * MINUTE);
      // One run per minute at most: its rows' ids carry the run, so a second one could collide.
      if (cursor && Number(cursor.cursor) >= until.getTime()) return 0;
      const rows = await tx.$queryRaw<
        {
          workspaceId: string;
          customerId: string;
          kind: string;
          gpuType: string | null;
          windowStart: Date;
          value: string;
        }[]
      >(rollupStatement(until));
      const data = rows
        .filter((row) => BigInt(row.value) > 0n)
        .map((row) => {
          const eventName =
            row.kind === 'gpu'
              ? gpuEventName(row.gpuType ?? '')
              : row.kind === 'cpu'
                ? 'kiln_cpu_core_ms'
                : 'kiln_memory_gib_ms';
          return {
            id: rollupId(row.workspaceId, eventName, row.windowStart, until),
            workspaceId: row.workspaceId,
            customerId: row.customerId,
            eventName,
            windowStart: row.windowStart,
            value: BigInt(row.value),
            nextAttemptAt: now,
          };
        });
      // Ids are new to this run (checked above), so a conflict would mean lost usage: let it fail.
      const created = data.length ? (await tx.usageOutbox.createMany({ data })).count : 0;
      await tx.billingCursor.upsert({
        where: { name: 'usage-rollup' },
        create: { name: 'usage-rollup', cursor: String(until.getTime()), updatedAt: now },
        update: { cursor: String(until.getTime()), updatedAt: now },
      });
      return created;
    },
    { timeout: 60_000, maxWait: 60_000 },
  );
}

/**
 * The rollup of every slice's usage from where it was rolled up to (its start the first time) until
 * its end, its last heartbeat while open, or `until`, whichever comes first; in the same statement each
 * of those slices moves its mark there, and is done once it is closed and rolled up to its end. Workspaces
 * without a Stripe customer move their marks too: usage from before a subscription is not sent later.
 * Exported for the test that reads its plan.
 */
export function rollupStatement(until: Date): Prisma.Sql {
  return Prisma.sql`
    WITH todo AS MATERIALIZED (
      SELECT s.id, s."workspaceId", s."gpuType", s."gpuCount", s."cpuMillicores", s."memoryMiB", s."priceVersionId",
        s."endAt", COALESCE(s."rolledUntil", s."startAt") AS f,
        GREATEST(COALESCE(s."rolledUntil", s."startAt"), LEAST(COALESCE(s."endAt", s."heartbeatAt"), ${until}::timestamptz)) AS t
      FROM "UsageSlice" s
      WHERE s."rollupDone" = false
    ),
    marked AS (
      UPDATE "UsageSlice" s SET "rolledUntil" = d.t, "rollupDone" = (d."endAt" IS NOT NULL AND d."endAt" <= d.t)
      FROM todo d
      WHERE s.id = d.id AND s."rollupDone" = false AND (d.t > d.f OR (d."endAt" IS NOT NULL AND d."endAt" <= d.t))
    ),
    o AS (
      SELECT d."workspaceId", a."stripeCustomerId" AS "customerId", w.ws, d."gpuType", d."gpuCount", d."cpuMillicores",
        d."memoryMiB", (p.prices->>'minimumCpuMillicores')::int AS mincpu,
        (extract(epoch FROM (LEAST(d.t, w.ws + interval '1 minute') - GREATEST(d.f, w.ws))) * 1000)::bigint AS ms
      FROM todo d
      JOIN "BillingAccount" a ON a."workspaceId" = d."workspaceId" AND a."stripeCustomerId" IS NOT NULL
      JOIN "PriceVersion" p ON p.id = d."priceVersionId"
      CROSS JOIN LATERAL generate_series(date_bin('1 minute', d.f, timestamptz '2000-01-01 00:00:00+00'),
        d.t - interval '1 millisecond', interval '1 minute') AS w(ws)
      WHERE d.t > d.f
    )
    SELECT "workspaceId", "customerId", 'gpu' AS kind, "gpuType", ws AS "windowStart", sum("gpuCount" * ms)::text AS value
      FROM o WHERE "gpuCount" > 0 GROUP BY 1, 2, 4, 5
    UNION ALL
    SELECT "workspaceId", "customerId", 'cpu', NULL, ws, round(sum(GREATEST("cpuMillicores", mincpu)::numeric * ms) / 1000)::text
      FROM o GROUP BY 1, 2, 5
    UNION ALL
    SELECT "workspaceId", "customerId", 'memory', NULL, ws, round(sum("memoryMiB"::numeric * ms) / 1024)::text
      FROM o GROUP BY 1, 2, 5`;
}

export interface SendResult {
  accepted: number;
  rejected: number;
  retrying: number;
}

/**
 * Sends due outbox rows: per customer and meter in window order, one call in flight per pair, with
 * `identifier` and idempotency key equal to the row id. A 4xx rejection is final and raises an alert
 * (never read as zero usage); network errors, 429 and 5xx retry with backoff.
 */
export async function sendOutbox(
  db: Db,
  stripe: Stripe,
  now: Date,
  options: Partial<OutboxOptions> = {},
): Promise<SendResult> {
  const settings = { ...DEFAULT_OUTBOX_OPTIONS, ...options };
  // A row left "sent" by a crashed process is due again: its identifier makes the retry count once.
  await db.usageOutbox.updateMany({
    where: { status: 'sent', sentAt: { lt: new Date(now.getTime() - MINUTE) } },
    data: { status: 'pending' },
  });
  const tooOld = await db.usageOutbox.findMany({
    where: { status: 'pending', windowStart: { lt: new Date(now.getTime() - settings.maxAgeMs) } },
  });
  for (const row of tooOld) await reject(db, row, 'older than Stripe accepts (35 days)', settings.notify);
  const due = await db.usageOutbox.findMany({
    where: { status: 'pending', nextAttemptAt: { lte: now } },
    orderBy: { windowStart: 'asc' },
    take: 5000,
  });
  const groups = new Map<string, typeof due>();
  for (const row of due)
    groups.set(`${row.customerId}:${row.eventName}`, [
      ...(groups.get(`${row.customerId}:${row.eventName}`) ?? []),
      row,
    ]);
  const result: SendResult = { accepted: 0, rejected: 0, retrying: tooOld.length ? 0 : 0 };
  result.rejected += tooOld.length;
  const queue = [...groups.values()];
  const worker = async () => {
    for (let rows = queue.shift(); rows; rows = queue.shift()) {
      for (const row of rows) {
        const outcome = await sendOne(db, stripe, row, now, settings.notify);
        result[outcome] += 1;
        if (outcome === 'retrying') break; // keep the pair's order: later windows wait for this one
      }
    }
  };
  await Promise.all(Array.from({ length: settings.concurrency }, worker));
  return result;
}

type OutboxRow = Prisma.UsageOutboxGetPayload<object>;

async function sendOne(
  db: Db,
  stripe: Stripe,
  row: OutboxRow,
  now: Date,
  notify?: AlertNotifier,
): Promise<keyof SendResult> {
  await db.usageOutbox.update({
    where: { id: row.id },
    data: { status: 'sent', sentAt: now, attempts: { increment: 1 } },
  });
  try {
    await stripe.billing.meterEvents.create(
      {
        event_name: row.eventName,
        identifier: row.id,
        timestamp: Math.floor(row.windowStart.getTime() / 1000),
        payload: { stripe_customer_id: row.customerId, value: row.value.toString() },
      },
      { idempotencyKey: row.id, maxNetworkRetries: 0 },
    );
    await db.usageOutbox.update({ where: { id: row.id }, data: { status: 'accepted', lastError: null } });
    return 'accepted';
  } catch (error) {
    const status = (error as { statusCode?: number }).statusCode;
    if (
      error instanceof Stripe.errors.StripeError &&
      status &&
      status >= 400 &&
      status < 500 &&
      status !== 429 &&
      status !== 409
    ) {
      await reject(db, row, error.message, notify);
      return 'rejected';
    }
    const backoffMs = Math.min(5 * MINUTE, 1000 * 2 ** Math.min(row.attempts, 8)) * (0.5 + Math.random() / 2);
    await db.usageOutbox.update({
      where: { id: row.id },
      data: {
        status: 'pending',
        lastError: String((error as Error).message ?? error),
        nextAttemptAt: new Date(now.getTime() + backoffMs),
      },
    });
    return 'retrying';
  }
}

async function reject(db: Db, row: OutboxRow, reason: string, notify?: AlertNotifier): Promise<void> {
  await db.usageOutbox.update({ where: { id: row.id }, data: { status: 'rejected', lastError: reason } });
  await raiseAlert(
    db,
    {
      id: `usage_rejected:${row.id}`,
      workspaceId: row.workspaceId,
      kind: 'usage_rejected',
      message: `Stripe rejected usage for ${row.eventName} at ${row.windowStart.toISOString()} (${row.value} units): ${reason}. Kiln still bills it; an operator must correct the Stripe invoice.`,
    },
    notify,
  );
}

import type { Db, Prisma } from '@kiln/db';
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

// Any constant; one rollup at a time across processes, so the watermark only moves forward.
const ROLLUP_LOCK_KEY = 0x6b696c6e02;

/** The rollup id, which is also the meter event identifier and the idempotency key (≤ 100 chars). */
export function rollupId(workspaceId: string, eventName: string, windowStart: Date): string {
  return `${workspaceId}:${eventName}:${Math.floor(windowStart.getTime() / MINUTE)}`;
}

/**
 * Rolls the ledger up into one outbox row per workspace with a Stripe customer, meter and settled
 * minute, in whole milli-units (GPU-ms per type, CPU core-ms at the billed minimum, memory GiB-ms).
 * A watermark moved in the same transaction and deterministic ids make it safe to run anywhere.
 */
export async function rollupUsage(db: Db, now: Date, options: Partial<OutboxOptions> = {}): Promise<number> {
  const settings = { ...DEFAULT_OUTBOX_OPTIONS, ...options };
  return db.$transaction(
    async (tx) => {
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(${ROLLUP_LOCK_KEY}::bigint)`;
      const cursor = await tx.billingCursor.findUnique({ where: { name: 'usage-rollup' } });
      const until = Math.floor((now.getTime() - settings.settleMs) / MINUTE) * MINUTE;
      const oldest = Math.ceil((now.getTime() - settings.maxAgeMs) / MINUTE) * MINUTE;
      const from = Math.max(cursor ? Number(cursor.cursor) : until - 60 * MINUTE, oldest);
      if (from >= until) return 0;
      const rows = await tx.$queryRaw<
        {
          workspaceId: string;
          customerId: string;
          kind: string;
          gpuType: string | null;
          windowStart: Date;
          value: string;
        }[]
      >`
      WITH w AS (SELECT g AS ws, g + interval '1 minute' AS we
                 FROM generate_series(${new Date(from)}::timestamptz, ${new Date(until - MINUTE)}::timestamptz, interval '1 minute') g),
      o AS (
        SELECT s."workspaceId", a."stripeCustomerId" AS "customerId", w.ws, s."gpuType", s."gpuCount", s."cpuMillicores",
          s."memoryMiB", (p.prices->>'minimumCpuMillicores')::int AS mincpu,
          GREATEST(0, (extract(epoch FROM (LEAST(COALESCE(s."endAt", s."heartbeatAt"), w.we) - GREATEST(s."startAt", w.ws))) * 1000)::bigint) AS ms
        FROM w JOIN "UsageSlice" s ON s."startAt" < w.we AND COALESCE(s."endAt", s."heartbeatAt") > w.ws
        JOIN "BillingAccount" a ON a."workspaceId" = s."workspaceId" AND a."stripeCustomerId" IS NOT NULL
        JOIN "PriceVersion" p ON p.id = s."priceVersionId"
      )
      SELECT "workspaceId", "customerId", 'gpu' AS kind, "gpuType", ws AS "windowStart", sum("gpuCount" * ms)::text AS value
        FROM o WHERE "gpuCount" > 0 GROUP BY 1, 2, 4, 5
      UNION ALL
      SELECT "workspaceId", "customerId", 'cpu', NULL, ws, round(sum(GREATEST("cpuMillicores", mincpu)::numeric * ms) / 1000)::text
        FROM o GROUP BY 1, 2, 5
      UNION ALL
      SELECT "workspaceId", "customerId", 'memory', NULL, ws, round(sum("memoryMiB"::numeric * ms) / 1024)::text
        FROM o GROUP BY 1, 2, 5`;
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
            id: rollupId(row.workspaceId, eventName, row.windowStart),
            workspaceId: row.workspaceId,
            customerId: row.customerId,
            eventName,
            windowStart: row.windowStart,
            value: BigInt(row.value),
            nextAttemptAt: now,
          };
        });
      const created = data.length
        ? (await tx.usageOutbox.createMany({ data, skipDuplicates: true })).count
        : 0;
      await tx.billingCursor.upsert({
        where: { name: 'usage-rollup' },
        create: { name: 'usage-rollup', cursor: String(until), updatedAt: now },
        update: { cursor: String(until), updatedAt: now },
      });
      return created;
    },
    { timeout: 60_000, maxWait: 60_000 },
  );
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

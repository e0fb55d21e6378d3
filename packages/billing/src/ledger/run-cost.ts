import type { Db } from '@kiln/db';
import { femtoToMicros, sliceRates, toMillicores } from '../price-book.ts';
import { priceVersionAt } from '../price-versions.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** What one stretch of a container's run cost, and at what rate (micro-dollars per hour). */
export interface RunCost {
  costMicros: bigint;
  ratePerHourMicros: bigint;
}

/**
 * What `containerId` cost between `from` and `to` (a cell's run): its slices' rates over the part of
 * the window each slice covers, so a hibernated gap costs nothing and the figure adds up with the
 * invoice. A container the meter has not reached yet (its first seconds) is priced like the slice it
 * will get: its resources under the price book in force at `from`. Null for an unknown container.
 */
export async function containerRunCost(
  db: Db,
  containerId: string,
  from: Date,
  to: Date,
): Promise<RunCost | null> {
  if (to.getTime() < from.getTime()) throw new RangeError('a run cannot end before it starts');
  if (!UUID.test(containerId)) return null;
  const [row] = await db.$queryRaw<{ femto: string | null; rate: string | null; slices: number }[]>`
    SELECT sum(("gpuRateFemto" + "cpuRateFemto" + "memRateFemto")::numeric
             * GREATEST(0, (extract(epoch FROM (LEAST(COALESCE("endAt", ${to}::timestamptz), ${to}::timestamptz)
                 - GREATEST("startAt", ${from}::timestamptz))) * 1000)::bigint))::text AS femto,
           max("gpuRateFemto" + "cpuRateFemto" + "memRateFemto")::text AS rate,
           count(*)::int AS slices
    FROM "UsageSlice"
    WHERE "containerId" = ${containerId}::uuid AND "startAt" < ${to}::timestamptz
      AND ("endAt" IS NULL OR "endAt" > ${from}::timestamptz)`;
  if (row && row.slices > 0) {
    return {
      costMicros: femtoToMicros(BigInt(row.femto ?? '0')),
      ratePerHourMicros: femtoToMicros(BigInt(row.rate ?? '0') * 3_600_000n),
    };
  }
  const container = await db.container.findUnique({
    where: { id: containerId },
    select: { cpu: true, memoryMiB: true, gpuType: true, gpuIndices: true },
  });
  if (!container) return null;
  const version = await priceVersionAt(db, from);
  const count = container.gpuIndices.length;
  const rates = sliceRates(version.book, {
    cpuMillicores: toMillicores(container.cpu),
    memoryMiB: container.memoryMiB,
    gpu: container.gpuType && count > 0 ? { type: container.gpuType, count } : null,
  });
  const perMs = rates.gpu + rates.cpu + rates.memory;
  return {
    costMicros: femtoToMicros(perMs * BigInt(to.getTime() - from.getTime())),
    ratePerHourMicros: femtoToMicros(perMs * 3_600_000n),
  };
}

/**
 * What the containers of `ownerId` (a notebook's kernels) cost during each window (e.g. a scheduled
 * run's start to end), in micro-dollars, in the order given: one query for all of them.
 */
export async function ownerCosts(
  db: Db,
  workspaceId: string,
  ownerId: string,
  windows: { from: Date; to: Date }[],
): Promise<bigint[]> {
  if (windows.length === 0) return [];
  const froms = windows.map((w) => w.from.toISOString());
  const tos = windows.map((w) => w.to.toISOString());
  const rows = await db.$queryRaw<{ i: bigint; femto: string }[]>`
    SELECT w.i, COALESCE(sum((s."gpuRateFemto" + s."cpuRateFemto" + s."memRateFemto")::numeric
      * GREATEST(0, (extract(epoch FROM (LEAST(COALESCE(s."endAt", w.t), w.t) - GREATEST(s."startAt", w.f))) * 1000)::bigint)), 0)::text AS femto
    FROM unnest(${froms}::text[]::timestamptz[], ${tos}::text[]::timestamptz[]) WITH ORDINALITY AS w(f, t, i)
    LEFT JOIN "UsageSlice" s ON s."workspaceId" = ${workspaceId}::uuid AND s."ownerId" = ${ownerId}
      AND s."startAt" < w.t AND (s."endAt" IS NULL OR s."endAt" > w.f)
    GROUP BY w.i ORDER BY w.i`;
  return rows.map((row) => femtoToMicros(BigInt(row.femto)));
}

import { Prisma } from '@kiln/db';
import type { Window } from './usage-queries.ts';

const DAY = 86_400_000;

/**
 * A workspace's usage in the window as rows of (day, ownerId, memberKey, gpuType, ms, gpuUnits,
 * cpuUnits, memUnits, gpu, cpu, memory), femto-dollars exact. Closed usage comes from the daily
 * rollup (one row per day and group, however many slices), open slices are split over their days
 * live. A window not on UTC day edges reads every slice instead: correct, only slower.
 */
export function usageParts(workspaceId: string, window: Window, memberId?: string): Prisma.Sql {
  const aligned = window.from.getTime() % DAY === 0 && window.to.getTime() % DAY === 0;
  const member = memberId ? Prisma.sql`AND s."memberId" = ${memberId}::uuid` : Prisma.empty;
  const end = window.now
    ? Prisma.sql`COALESCE(s."endAt", ${window.now}::timestamptz)`
    : Prisma.sql`COALESCE(s."endAt", GREATEST(s."startAt", clock_timestamp()))`;
  const sliceWhere = aligned
    ? Prisma.sql`s."workspaceId" = ${workspaceId}::uuid AND s."endAt" IS NULL AND s."startAt" < ${window.to}::timestamptz ${member}`
    : Prisma.sql`s."workspaceId" = ${workspaceId}::uuid AND s."startAt" < ${window.to}::timestamptz
        AND (s."endAt" IS NULL OR s."endAt" > ${window.from}::timestamptz) ${member}`;
  const ms = Prisma.sql`GREATEST(0, (extract(epoch FROM (LEAST(${end}, g + interval '1 day', ${window.to}::timestamptz)
      - GREATEST(s."startAt", g, ${window.from}::timestamptz))) * 1000)::bigint)`;
  const slices = Prisma.sql`
    SELECT (g AT TIME ZONE 'UTC')::date AS day, s."ownerId", COALESCE(s."memberId"::text, '') AS "memberKey",
      COALESCE(s."gpuType", '') AS "gpuType", ${ms} AS ms, s."gpuCount"::bigint * ${ms} AS "gpuUnits",
      GREATEST(s."cpuMillicores", (v.prices->>'minimumCpuMillicores')::int)::bigint * ${ms} AS "cpuUnits",
      s."memoryMiB"::bigint * ${ms} AS "memUnits",
      s."gpuRateFemto"::numeric * ${ms} AS gpu, s."cpuRateFemto"::numeric * ${ms} AS cpu, s."memRateFemto"::numeric * ${ms} AS memory
    FROM "UsageSlice" s
    JOIN "PriceVersion" v ON v.id = s."priceVersionId"
    CROSS JOIN LATERAL generate_series(date_trunc('day', GREATEST(s."startAt", ${window.from}::timestamptz), 'UTC'),
      LEAST(${end}, ${window.to}::timestamptz) - interval '1 millisecond', interval '1 day') g
    WHERE ${sliceWhere}`;
  if (!aligned) return Prisma.sql`(${slices})`;
  const memberDaily = memberId ? Prisma.sql`AND d."memberKey" = ${memberId}` : Prisma.empty;
  return Prisma.sql`(
    SELECT d.day, d."ownerId", d."memberKey", d."gpuType", d.ms, d."gpuUnits", d."cpuUnits", d."memUnits",
      d."gpuFemto" AS gpu, d."cpuFemto" AS cpu, d."memFemto" AS memory
    FROM "UsageDaily" d
    WHERE d."workspaceId" = ${workspaceId}::uuid AND d.day >= (${window.from}::timestamptz AT TIME ZONE 'UTC')::date AND d.day < (${window.to}::timestamptz AT TIME ZONE 'UTC')::date ${memberDaily}
    UNION ALL ${slices})`;
}

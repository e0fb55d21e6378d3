import { type Db, Prisma } from '@kiln/db';
import { femtoToMicros } from '../price-book.ts';
import { usageParts } from './parts.ts';

/** Micro-dollars per resource; `total` is their sum, each rounded once from exact femto-dollars. */
export interface ResourceCost {
  gpu: bigint;
  cpu: bigint;
  memory: bigint;
  total: bigint;
}

export interface Window {
  from: Date;
  to: Date;
  /** End of slices still open (the database's now when omitted). */
  now?: Date;
}

/** A window edge: a time, or a column of the query (per-day windows). */
type Bound = Date | Prisma.Sql;
interface Bounds {
  from: Bound;
  to: Bound;
  now?: Date;
}

function edge(bound: Bound): Prisma.Sql {
  return bound instanceof Date ? Prisma.sql`${bound}::timestamptz` : bound;
}

/** Milliseconds of a slice inside the window; open slices run until `now`. */
export function overlapMs(window: Bounds): Prisma.Sql {
  const end = window.now
    ? Prisma.sql`COALESCE(s."endAt", ${window.now}::timestamptz)`
    : Prisma.sql`COALESCE(s."endAt", GREATEST(s."startAt", clock_timestamp()))`;
  return Prisma.sql`GREATEST(0, (extract(epoch FROM (LEAST(${end}, ${edge(window.to)})
    - GREATEST(s."startAt", ${edge(window.from)}))) * 1000)::bigint)`;
}

/** Slices of a workspace that may overlap the window (every slice starts before it ends). */
export function inWindow(workspaceId: string, window: Window): Prisma.Sql {
  return Prisma.sql`s."workspaceId" = ${workspaceId}::uuid AND s."startAt" < ${window.to}::timestamptz
    AND (s."endAt" IS NULL OR s."endAt" > ${window.from}::timestamptz)`;
}

interface CostRow {
  gpu: string | null;
  cpu: string | null;
  memory: string | null;
}

const SUMS = Prisma.sql`COALESCE(sum(p.gpu), 0)::text AS gpu, COALESCE(sum(p.cpu), 0)::text AS cpu,
  COALESCE(sum(p.memory), 0)::text AS memory`;

/** Exact femto-dollar sums of one group, as strings (numeric in Postgres) to keep them whole. */
export function costColumns(window: Bounds): Prisma.Sql {
  const ms = overlapMs(window);
  return Prisma.sql`sum(s."gpuRateFemto"::numeric * ${ms})::text AS gpu,
    sum(s."cpuRateFemto"::numeric * ${ms})::text AS cpu,
    sum(s."memRateFemto"::numeric * ${ms})::text AS memory`;
}

export function toResourceCost(row: CostRow | undefined): ResourceCost {
  const femto = (value: string | null | undefined) => BigInt(value ?? '0');
  const gpu = femto(row?.gpu);
  const cpu = femto(row?.cpu);
  const memory = femto(row?.memory);
  return {
    gpu: femtoToMicros(gpu),
    cpu: femtoToMicros(cpu),
    memory: femtoToMicros(memory),
    total: femtoToMicros(gpu + cpu + memory),
  };
}

/** What a workspace's usage cost in the window; `memberId` narrows it to one member's. */
export async function windowCost(
  db: Db,
  workspaceId: string,
  window: Window,
  memberId?: string,
): Promise<ResourceCost> {
  const rows = await db.$queryRaw<CostRow[]>`
    SELECT ${SUMS} FROM ${usageParts(workspaceId, window, memberId)} p`;
  return toResourceCost(rows[0]);
}

export interface DailyCost extends ResourceCost {
  /** UTC date, "2026-12-03". */
  day: string;
}

/** Cost per UTC day of the window, split by resource; days without usage are included as zero. */
export async function dailyCost(
  db: Db,
  workspaceId: string,
  window: Window,
  memberId?: string,
): Promise<DailyCost[]> {
  const rows = await db.$queryRaw<(CostRow & { day: string })[]>`
    SELECT to_char(g AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, ${SUMS}
    FROM generate_series(${window.from}::timestamptz, ${window.to}::timestamptz - interval '1 day', interval '1 day') g
    LEFT JOIN ${usageParts(workspaceId, window, memberId)} p ON p.day = (g AT TIME ZONE 'UTC')::date
    GROUP BY g ORDER BY g`;
  return rows.map((row) => ({ day: row.day, ...toResourceCost(row) }));
}

export interface GroupCost extends ResourceCost {
  key: string | null;
  seconds: number;
}

/** Cost per notebook (ownerId) or per member in the window, most expensive first. */
export async function costBy(
  db: Db,
  workspaceId: string,
  window: Window,
  by: 'owner' | 'member',
  memberId?: string,
): Promise<GroupCost[]> {
  const column = by === 'owner' ? Prisma.sql`p."ownerId"` : Prisma.sql`NULLIF(p."memberKey", '')`;
  const rows = await db.$queryRaw<(CostRow & { key: string | null; ms: string })[]>`
    SELECT ${column} AS key, sum(p.ms)::text AS ms, ${SUMS}
    FROM ${usageParts(workspaceId, window, memberId)} p
    GROUP BY 1`;
  return rows
    .map((row) => ({ key: row.key, seconds: Math.floor(Number(row.ms) / 1000), ...toResourceCost(row) }))
    .sort((a, b) => (b.total > a.total ? 1 : b.total < a.total ? -1 : 0));
}

import { Prisma } from '@kiln/db';
import { type PriceBook, sliceRates, toMillicores } from '../price-book.ts';
import type { MeterEvent } from './types.ts';

type Tx = Prisma.TransactionClient;

/** A price version as the meter reads it with its cursor: every version, oldest first. */
export interface PriceVersionRow {
  id: number;
  from: number;
  book: PriceBook;
}

/** Id of the slice a running period opens with: one per (container, event), so a replay inserts nothing. */
export function openingSliceId(containerId: string, seq: number): string {
  return `${containerId}:${seq}`;
}

const isOpen = (event: MeterEvent) => event.to === 'running';
const isClose = (event: MeterEvent) => event.from === 'running' && event.to !== 'running';

// A container stopped because its node came back from a crash without it ends at the last heartbeat
// its slice got: the node's own heartbeat is the new process's by then.
const closeMode = (e: MeterEvent) =>
  e.to === 'lost' ? 'lost' : e.code === 'node_lost' ? 'restarted' : 'orderly';

/**
 * When a slice closes, the same for one already in the ledger and one opened earlier in the page. An
 * orderly change (hibernate, stop) closes at its own time; a lost container closes at its last sign
 * of life (the slice's or its node's last heartbeat before the loss), so the minutes before a crash
 * was noticed are never billed.
 */
function closedAt(start: string, beat: string, node: string, at: string, mode: string): Prisma.Sql {
  const [s, b, n, a, m] = [start, beat, node, at, mode].map((column) => Prisma.raw(column));
  return Prisma.sql`CASE WHEN ${m} = 'restarted' THEN GREATEST(${s}, LEAST(${a}, ${b}))
    WHEN ${m} = 'lost' THEN GREATEST(${s}, LEAST(${a}, GREATEST(${b},
      COALESCE((SELECT n."heartbeatAt" FROM "Node" n WHERE n.id = ${n} AND n."heartbeatAt" <= ${a}), ${b}))))
    ELSE GREATEST(${s}, ${a}) END`;
}

// Column values travel as one delimited text per column (see applyEvents); none of these contain a
// comma: uuids, integers, epoch milliseconds and state names. A missing value is written as NULL_MARK
// when it is collected, so each column is one join.
const NULL_MARK = '-';

// The statement's constant parts, built once.
const INSERTED_CLOSED_AT = closedAt('u.at', 'u.at', 'u.node', 'u."end"', 'u.mode');
const EARLIER_CLOSED_AT = closedAt('s."startAt"', 's."heartbeatAt"', 's."nodeId"', 'c.at', 'c.mode');

/**
 * Applies a page of state changes to the ledger and moves the consumer's cursor past it, in one
 * statement. Entering `running` opens a slice priced by the book in force then; leaving it closes the
 * container's open slice of an earlier period (so a page holding a resume and a later stop closes each
 * slice with its own event). A period that opens and closes within the page is inserted closed: one
 * write and one rollup instead of an insert and an update.
 */
export async function applyEvents(
  tx: Tx,
  events: MeterEvent[],
  versions: PriceVersionRow[],
  cursor: { name: string; value: string },
): Promise<void> {
  await tx.$executeRaw(applyEventsStatement(events, versions, cursor));
}

/** The one statement `applyEvents` runs for a page (exported for tests that read or explain it). */
export function applyEventsStatement(
  events: MeterEvent[],
  versions: PriceVersionRow[],
  cursor: { name: string; value: string },
): Prisma.Sql {
  // Each open is paired with its container's first close after it in the page, if any.
  const closesOf = new Map<string, MeterEvent[]>();
  // And every close, as columns, for closing slices of earlier pages.
  const closes = {
    cid: [] as string[],
    seq: [] as number[],
    at: [] as number[],
    to: [] as string[],
    mode: [] as string[],
  };
  for (const event of events) {
    if (!isClose(event)) continue;
    const list = closesOf.get(event.containerId);
    if (list) list.push(event);
    else closesOf.set(event.containerId, [event]);
    closes.cid.push(event.containerId);
    closes.seq.push(event.seq);
    closes.at.push(event.at.getTime());
    closes.to.push(event.to);
    closes.mode.push(closeMode(event));
  }
  // What a slice is billed for (workspace, owner, node, resources and their price) is shared by many
  // slices of a page: each distinct one is sent and priced once, and a slice names it by index.
  const profiles: Record<string, string | number | null>[] = [];
  const profileOf = new Map<string, number>();
  const open = { cid: [] as string[], seq: [] as number[], profile: [] as number[] };
  const openEnd = { at: [] as number[], end: [] as (number | string)[], reason: [] as string[] };
  const openMode: string[] = [];
  for (const event of events) {
    if (!isOpen(event)) continue;
    const at = event.at.getTime();
    const version = versions.findLast((candidate) => candidate.from <= at);
    if (!version) throw new Error(`no price version in force at ${event.at.toISOString()}`);
    const gpu = event.gpu && event.gpu.count > 0 ? event.gpu : null;
    const cpuMillicores = toMillicores(event.cpu);
    const key = `${event.workspaceId}\0${event.kind}\0${event.ownerId}\0${event.requestedById}\0${event.nodeId}\0${gpu?.type}\0${gpu?.count}\0${cpuMillicores}\0${event.memoryMiB}\0${version.id}`;
    let profile = profileOf.get(key);
    if (profile === undefined) {
      const rates = sliceRates(version.book, { cpuMillicores, memoryMiB: event.memoryMiB, gpu });
      profile = profiles.length;
      profileOf.set(key, profile);
      profiles.push({
        i: profile,
        ws: event.workspaceId,
        kind: event.kind,
        owner: event.ownerId,
        member: event.requestedById,
        node: event.nodeId,
        gpu: gpu?.type ?? null,
        gpus: gpu?.count ?? 0,
        cpu: cpuMillicores,
        mem: event.memoryMiB,
        version: version.id,
        gr: rates.gpu.toString(),
        cr: rates.cpu.toString(),
        mr: rates.memory.toString(),
      });
    }
    const close = closesOf.get(event.containerId)?.find((candidate) => candidate.seq > event.seq);
    open.cid.push(event.containerId);
    open.seq.push(event.seq);
    open.profile.push(profile);
    openEnd.at.push(at);
    openEnd.end.push(close ? close.at.getTime() : NULL_MARK);
    openEnd.reason.push(close ? close.to : NULL_MARK);
    openMode.push(close ? closeMode(close) : NULL_MARK);
  }
  // The page travels as a small JSON of profiles and one comma-separated text per column, split into
  // arrays by Postgres: the client's work per slice is a few numbers and a join, not an object, its
  // JSON and that JSON escaped again as a parameter. The data-modifying parts share one snapshot, so
  // the close below sees only slices of earlier pages, never the ones inserted here; a replayed page
  // inserts nothing (ids and (container, start) are unique) and finds them closed. Epoch milliseconds
  // divide as float8, not numeric (`/ 1000.0`), before `to_timestamp` (which takes a float8 anyway):
  // the same instant, exact to the microsecond at these magnitudes, without numeric arithmetic per row.
  return Prisma.sql`
    WITH profile AS (
      SELECT * FROM json_to_recordset(${JSON.stringify(profiles)}::json) AS p(i int, ws uuid, kind text, owner text,
        member uuid, node text, gpu text, gpus int, cpu int, mem int, version int, gr bigint, cr bigint, mr bigint)
    ),
    opened AS (
      SELECT o.cid || ':' || o.seq AS id, o.cid::uuid AS cid, o.seq, p.*, to_timestamp(o.at::float8 / 1000) AS at,
        to_timestamp(o."end"::float8 / 1000) AS "end", o.reason, o.mode
      FROM unnest(string_to_array(${open.cid.join(',')}, ','), string_to_array(${open.seq.join(',')}, ',')::int[],
          string_to_array(${open.profile.join(',')}, ',')::int[], string_to_array(${openEnd.at.join(',')}, ',')::bigint[],
          string_to_array(${openEnd.end.join(',')}, ',', ${NULL_MARK})::bigint[],
          string_to_array(${openEnd.reason.join(',')}, ',', ${NULL_MARK}), string_to_array(${openMode.join(',')}, ',', ${NULL_MARK}))
        AS o(cid, seq, pi, at, "end", reason, mode)
      JOIN profile p ON p.i = o.pi
    ),
    closing AS (
      SELECT c.cid, c.seq, to_timestamp(c.at::float8 / 1000) AS at, c.reason, c.mode
      FROM unnest(string_to_array(${closes.cid.join(',')}, ',')::uuid[],
          string_to_array(${closes.seq.join(',')}, ',')::int[],
          string_to_array(${closes.at.join(',')}, ',')::bigint[],
          string_to_array(${closes.to.join(',')}, ','),
          string_to_array(${closes.mode.join(',')}, ','))
        AS c(cid, seq, at, reason, mode)
    ),
    inserted AS (
      INSERT INTO "UsageSlice" (id, "workspaceId", "containerId", "periodSeq", kind, "ownerId", "memberId",
        "nodeId", "gpuType", "gpuCount", "cpuMillicores", "memoryMiB", "priceVersionId", "gpuRateFemto",
        "cpuRateFemto", "memRateFemto", "startAt", "heartbeatAt", "endAt", "endReason")
      SELECT u.id, u.ws, u.cid, u.seq, u.kind::"ContainerKind", u.owner, u.member, u.node, u.gpu,
        u.gpus, u.cpu, u.mem, u.version, u.gr, u.cr, u.mr, u.at,
        CASE WHEN u.mode = 'orderly' THEN GREATEST(u.at, u."end") ELSE u.at END,
        CASE WHEN u.mode IS NOT NULL THEN ${INSERTED_CLOSED_AT} END,
        u.reason
      FROM opened u
      ON CONFLICT DO NOTHING
    ),
    open_closes AS (
      SELECT DISTINCT ON (s.id) s.id, c.at, c.reason, c.mode FROM "UsageSlice" s
      JOIN closing c ON s."containerId" = c.cid AND s."periodSeq" < c.seq
      WHERE s."endAt" IS NULL
      ORDER BY s.id, c.seq
    ),
    closed AS (
      UPDATE "UsageSlice" s
      SET "endAt" = ${EARLIER_CLOSED_AT},
        "heartbeatAt" = CASE WHEN c.mode <> 'orderly' THEN s."heartbeatAt" ELSE GREATEST(s."heartbeatAt", c.at) END,
        "endReason" = c.reason
      FROM open_closes c WHERE s.id = c.id
    )
    INSERT INTO "BillingCursor" (name, cursor, "updatedAt") VALUES (${cursor.name}, ${cursor.value}, ${new Date()})
    ON CONFLICT (name) DO UPDATE SET cursor = EXCLUDED.cursor, "updatedAt" = EXCLUDED."updatedAt"`;
}

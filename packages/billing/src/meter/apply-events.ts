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
  // Each open is paired with its container's first close after it in the page, if any.
  const closesOf = new Map<string, MeterEvent[]>();
  for (const event of events) {
    if (!isClose(event)) continue;
    const list = closesOf.get(event.containerId);
    if (list) list.push(event);
    else closesOf.set(event.containerId, [event]);
  }
  const opens = events.filter(isOpen).map((event) => {
    const at = event.at.getTime();
    const version = versions.findLast((candidate) => candidate.from <= at);
    if (!version) throw new Error(`no price version in force at ${event.at.toISOString()}`);
    const gpu = event.gpu && event.gpu.count > 0 ? { type: event.gpu.type, count: event.gpu.count } : null;
    const resources = { cpuMillicores: toMillicores(event.cpu), memoryMiB: event.memoryMiB, gpu };
    const rates = sliceRates(version.book, resources);
    const close = closesOf.get(event.containerId)?.find((candidate) => candidate.seq > event.seq);
    return {
      id: openingSliceId(event.containerId, event.seq),
      ws: event.workspaceId,
      cid: event.containerId,
      seq: event.seq,
      kind: event.kind,
      owner: event.ownerId,
      member: event.requestedById,
      node: event.nodeId,
      gpu: gpu?.type ?? null,
      gpus: gpu?.count ?? 0,
      cpu: resources.cpuMillicores,
      mem: resources.memoryMiB,
      version: version.id,
      gr: rates.gpu.toString(),
      cr: rates.cpu.toString(),
      mr: rates.memory.toString(),
      at: event.at.toISOString(),
      end: close?.at.toISOString() ?? null,
      reason: close?.to ?? null,
      mode: close ? closeMode(close) : null,
    };
  });
  const closes = events.filter(isClose).map((e) => ({
    cid: e.containerId,
    seq: e.seq,
    at: e.at.toISOString(),
    reason: e.to,
    mode: closeMode(e),
  }));
  // The page travels as two JSON parameters (not a bind parameter per value, nor an array per column:
  // each array element costs the client a conversion and an escape). The data-modifying parts share
  // one snapshot, so the close below sees only slices of earlier pages, never the ones inserted here;
  // a replayed page inserts nothing (ids and (container, start) are unique) and finds them closed.
  await tx.$executeRaw`
    WITH opened AS (
      SELECT * FROM json_to_recordset(${JSON.stringify(opens)}::json) AS u(id text, ws uuid, cid uuid, seq int,
        kind text, owner text, member uuid, node text, gpu text, gpus int, cpu int, mem int, version int, gr bigint,
        cr bigint, mr bigint, at timestamptz, "end" timestamptz, reason text, mode text)
    ),
    closing AS (
      SELECT * FROM json_to_recordset(${JSON.stringify(closes)}::json)
        AS u(cid uuid, seq int, at timestamptz, reason text, mode text)
    ),
    inserted AS (
      INSERT INTO "UsageSlice" (id, "workspaceId", "containerId", "periodSeq", kind, "ownerId", "memberId",
        "nodeId", "gpuType", "gpuCount", "cpuMillicores", "memoryMiB", "priceVersionId", "gpuRateFemto",
        "cpuRateFemto", "memRateFemto", "startAt", "heartbeatAt", "endAt", "endReason")
      SELECT u.id, u.ws, u.cid, u.seq, u.kind::"ContainerKind", u.owner, u.member, u.node, u.gpu,
        u.gpus, u.cpu, u.mem, u.version, u.gr, u.cr, u.mr, u.at,
        CASE WHEN u.mode = 'orderly' THEN GREATEST(u.at, u."end") ELSE u.at END,
        CASE WHEN u.mode IS NOT NULL THEN ${closedAt('u.at', 'u.at', 'u.node', 'u."end"', 'u.mode')} END,
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
      SET "endAt" = ${closedAt('s."startAt"', 's."heartbeatAt"', 's."nodeId"', 'c.at', 'c.mode')},
        "heartbeatAt" = CASE WHEN c.mode <> 'orderly' THEN s."heartbeatAt" ELSE GREATEST(s."heartbeatAt", c.at) END,
        "endReason" = c.reason
      FROM open_closes c WHERE s.id = c.id
    )
    INSERT INTO "BillingCursor" (name, cursor, "updatedAt") VALUES (${cursor.name}, ${cursor.value}, ${new Date()})
    ON CONFLICT (name) DO UPDATE SET cursor = EXCLUDED.cursor, "updatedAt" = EXCLUDED."updatedAt"`;
}

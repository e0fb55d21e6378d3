import { DomainError } from '@kiln/core';
import type { Db } from '@kiln/db';
import type { ContainerTransition } from '../types.ts';
import { toTransition } from './transition.ts';

export interface EventPage {
  events: ContainerTransition[];
  /** Pass back to get the events after these; unchanged when there were none. */
  cursor: string;
}

/**
 * State changes after `cursor` (null: from the beginning), oldest first, at most `limit`. Only events of
 * transactions older than every writing transaction still open in this database are returned, so an
 * event whose transaction commits late is returned later rather than skipped: a consumer that stores
 * the cursor with what it did sees every event exactly once.
 */
export async function eventsAfter(db: Db, cursor: string | null, limit = 500): Promise<EventPage> {
  const [txId, id] = parseCursor(cursor);
  const take = Math.max(1, Math.min(10_000, Math.floor(limit)));
  const bound = await settledBound(db);
  const rows = await db.$queryRaw<{ id: bigint }[]>`
    SELECT id FROM "ContainerEvent"
    WHERE ("txId", id) > (${txId}::bigint, ${id}::bigint) AND "txId" < ${bound}::bigint
    ORDER BY "txId", id
    LIMIT ${take}`;
  if (rows.length === 0) return { events: [], cursor: cursor ?? '0-0' };
  const events = await db.containerEvent.findMany({ where: { id: { in: rows.map((row) => row.id) } } });
  events.sort((a, b) => (a.txId === b.txId ? Number(a.id - b.id) : a.txId < b.txId ? -1 : 1));
  const page = events.map(toTransition);
  return { events: page, cursor: page[page.length - 1]?.cursor ?? cursor ?? '0-0' };
}

/**
 * The lowest transaction id that may still write events: the oldest transaction with an id open in
 * this database, or the next id to be handed out. Every event below it is committed (or rolled back)
 * and so visible to a query that starts afterwards. Only this database's sessions count (a long
 * transaction in another database of the same server must not hold billing up); pg_stat_activity shows
 * their ids to sessions of the same role, which all of Kiln's connections use. Its ids are 32-bit:
 * they are widened with the epoch of the next id.
 */
async function settledBound(db: Db): Promise<bigint> {
  const [row] = await db.$queryRaw<{ bound: bigint }[]>`
    WITH next AS (SELECT (pg_snapshot_xmax(pg_current_snapshot())::text)::bigint AS xid),
    open AS (
      SELECT (backend_xid::text)::bigint AS xid FROM pg_stat_activity
      WHERE datname = current_database() AND backend_xid IS NOT NULL
    )
    SELECT LEAST(
      next.xid,
      COALESCE(min(CASE WHEN open.xid < (next.xid & 4294967295) THEN ((next.xid >> 32) << 32) | open.xid
                        ELSE (((next.xid >> 32) - 1) << 32) | open.xid END), next.xid)
    ) AS bound
    FROM next LEFT JOIN open ON true GROUP BY next.xid`;
  if (!row) throw new Error('no transaction bound');
  return BigInt(row.bound);
}

function parseCursor(cursor: string | null): [bigint, bigint] {
  if (cursor === null || cursor === '') return [0n, 0n];
  const match = /^(\d{1,19})-(\d{1,19})$/.exec(cursor);
  if (!match?.[1] || !match[2]) throw new DomainError('VALIDATION_FAILED', `Not an event cursor: ${cursor}`);
  return [BigInt(match[1]), BigInt(match[2])];
}

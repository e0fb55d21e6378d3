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
 * transactions older than every transaction still open are returned, so an event whose transaction
 * commits late is returned later rather than skipped: a consumer that stores the cursor with what it
 * did sees every event exactly once.
 */
export async function eventsAfter(db: Db, cursor: string | null, limit = 500): Promise<EventPage> {
  const [txId, id] = parseCursor(cursor);
  const take = Math.max(1, Math.min(10_000, Math.floor(limit)));
  const rows = await db.$queryRaw<{ id: bigint }[]>`
    SELECT id FROM "ContainerEvent"
    WHERE ("txId", id) > (${txId}::bigint, ${id}::bigint)
      AND "txId" < (pg_snapshot_xmin(pg_current_snapshot())::text)::bigint
    ORDER BY "txId", id
    LIMIT ${take}`;
  if (rows.length === 0) return { events: [], cursor: cursor ?? '0-0' };
  const events = await db.containerEvent.findMany({ where: { id: { in: rows.map((row) => row.id) } } });
  events.sort((a, b) => (a.txId === b.txId ? Number(a.id - b.id) : a.txId < b.txId ? -1 : 1));
  const page = events.map(toTransition);
  return { events: page, cursor: page[page.length - 1]?.cursor ?? cursor ?? '0-0' };
}

function parseCursor(cursor: string | null): [bigint, bigint] {
  if (cursor === null || cursor === '') return [0n, 0n];
  const match = /^(\d{1,19})-(\d{1,19})$/.exec(cursor);
  if (!match?.[1] || !match[2]) throw new DomainError('VALIDATION_FAILED', `Not an event cursor: ${cursor}`);
  return [BigInt(match[1]), BigInt(match[2])];
}

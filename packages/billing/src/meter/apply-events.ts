import { Prisma } from '@kiln/db';
import { type PriceBook, sliceRates, toMillicores } from '../price-book.ts';
import { priceVersionAt } from '../price-versions.ts';
import type { MeterEvent } from './types.ts';

type Tx = Prisma.TransactionClient;

/** Id of the slice a running period opens with: one per (container, event), so a replay inserts nothing. */
export function openingSliceId(containerId: string, seq: number): string {
  return `${containerId}:${seq}`;
}

/**
 * Applies a page of state changes to the ledger in two statements. Entering `running` opens a slice
 * priced by the book in force then; leaving it closes the container's open slice of an earlier
 * period (so a page holding a resume and a later stop closes each slice with its own event). An
 * orderly change (hibernate, stop) closes at its own time; a lost container closes at its last sign
 * of life (the slice's or its node's last heartbeat before the loss), so the minutes before a crash
 * was noticed are never billed.
 */
export async function applyEvents(tx: Tx, events: MeterEvent[]): Promise<void> {
  const opens = events.filter((event) => event.to === 'running');
  if (opens.length > 0) {
    // Every version up to the page's newest event, once per page; each event takes the last one in force.
    const newest = opens.reduce(
      (max, event) => (event.at > max ? event.at : max),
      opens[0]?.at ?? new Date(0),
    );
    await priceVersionAt(tx, newest);
    const versions = (
      await tx.priceVersion.findMany({
        where: { effectiveFrom: { lte: newest } },
        orderBy: [{ effectiveFrom: 'asc' }, { id: 'asc' }],
      })
    ).map((row) => ({
      id: row.id,
      from: row.effectiveFrom.getTime(),
      book: row.prices as unknown as PriceBook,
    }));
    const data = [];
    for (const event of opens) {
      const at = event.at.getTime();
      const version = versions.findLast((candidate) => candidate.from <= at);
      if (!version) throw new Error(`no price version in force at ${event.at.toISOString()}`);
      const gpu = event.gpu && event.gpu.count > 0 ? { type: event.gpu.type, count: event.gpu.count } : null;
      const resources = { cpuMillicores: toMillicores(event.cpu), memoryMiB: event.memoryMiB, gpu };
      const rates = sliceRates(version.book, resources);
      data.push({
        id: openingSliceId(event.containerId, event.seq),
        workspaceId: event.workspaceId,
        containerId: event.containerId,
        periodSeq: event.seq,
        kind: event.kind,
        ownerId: event.ownerId,
        memberId: event.requestedById,
        nodeId: event.nodeId,
        gpuType: gpu?.type ?? null,
        gpuCount: gpu?.count ?? 0,
        cpuMillicores: resources.cpuMillicores,
        memoryMiB: resources.memoryMiB,
        priceVersionId: version.id,
        gpuRateFemto: rates.gpu,
        cpuRateFemto: rates.cpu,
        memRateFemto: rates.memory,
        startAt: event.at,
        heartbeatAt: event.at,
      });
    }
    await tx.usageSlice.createMany({ data, skipDuplicates: true });
  }
  const closes = events.filter((event) => event.from === 'running' && event.to !== 'running');
  if (closes.length === 0) return;
  const values = Prisma.join(
    closes.map(
      (e) => Prisma.sql`(${e.containerId}::uuid, ${e.seq}::int, ${e.at}::timestamptz, ${e.to}::text)`,
    ),
  );
  await tx.$executeRaw`
    WITH v(cid, seq, at, reason) AS (VALUES ${values}),
    c AS (
      SELECT DISTINCT ON (s.id) s.id, v.at, v.reason FROM "UsageSlice" s
      JOIN v ON s."containerId" = v.cid AND s."periodSeq" < v.seq
      WHERE s."endAt" IS NULL
      ORDER BY s.id, v.seq
    )
    UPDATE "UsageSlice" s
    SET "endAt" = CASE WHEN c.reason = 'lost'
          THEN GREATEST(s."startAt", LEAST(c.at, GREATEST(s."heartbeatAt",
            COALESCE((SELECT n."heartbeatAt" FROM "Node" n WHERE n.id = s."nodeId" AND n."heartbeatAt" <= c.at),
                     s."heartbeatAt"))))
          ELSE GREATEST(s."startAt", c.at) END,
        "heartbeatAt" = CASE WHEN c.reason = 'lost' THEN s."heartbeatAt" ELSE GREATEST(s."heartbeatAt", c.at) END,
        "endReason" = c.reason
    FROM c WHERE s.id = c.id`;
}

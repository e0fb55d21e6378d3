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
    const versions = new Map<number, { id: number; book: PriceBook }>();
    const data = [];
    for (const event of opens) {
      // Versions change rarely; one lookup per distinct start second keeps replays cheap.
      const second = Math.floor(event.at.getTime() / 1000);
      let version = versions.get(second);
      if (!version) {
        version = await priceVersionAt(tx, event.at);
        versions.set(second, version);
      }
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
    closes.map((e) => Prisma.sql`(${e.containerId}::uuid, ${e.seq}::int, ${e.at}::timestamptz, ${e.to}::text)`),
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

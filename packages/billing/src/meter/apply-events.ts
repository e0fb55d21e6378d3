import type { Prisma } from '@kiln/db';
import { sliceRates, toMillicores } from '../price-book.ts';
import { priceVersionAt } from '../price-versions.ts';
import type { MeterEvent } from './types.ts';

type Tx = Prisma.TransactionClient;

/** Id of the slice a running period opens with: one per (container, event), so a replay inserts nothing. */
export function openingSliceId(containerId: string, seq: number): string {
  return `${containerId}:${seq}`;
}

/**
 * Applies one state change to the ledger. Entering `running` opens a slice priced by the book in force
 * then; leaving it closes every open slice of the container. An orderly change (hibernate, stop) closes
 * at its own time; a lost container closes at its last sign of life (the slice's or its node's last
 * heartbeat before the loss), so the minutes before a crash was noticed are never billed.
 */
export async function applyEvent(tx: Tx, event: MeterEvent): Promise<void> {
  if (event.from === 'running' && event.to !== 'running') await closeFor(tx, event);
  if (event.to === 'running') await open(tx, event);
}

async function open(tx: Tx, event: MeterEvent): Promise<void> {
  const version = await priceVersionAt(tx, event.at);
  const resources = {
    cpuMillicores: toMillicores(event.cpu),
    memoryMiB: event.memoryMiB,
    gpu: event.gpu && event.gpu.count > 0 ? { type: event.gpu.type, count: event.gpu.count } : null,
  };
  const rates = sliceRates(version.book, resources);
  await tx.usageSlice.createMany({
    data: [
      {
        id: openingSliceId(event.containerId, event.seq),
        workspaceId: event.workspaceId,
        containerId: event.containerId,
        periodSeq: event.seq,
        kind: event.kind,
        ownerId: event.ownerId,
        memberId: event.requestedById,
        nodeId: event.nodeId,
        gpuType: resources.gpu?.type ?? null,
        gpuCount: resources.gpu?.count ?? 0,
        cpuMillicores: resources.cpuMillicores,
        memoryMiB: resources.memoryMiB,
        priceVersionId: version.id,
        gpuRateFemto: rates.gpu,
        cpuRateFemto: rates.cpu,
        memRateFemto: rates.memory,
        startAt: event.at,
        heartbeatAt: event.at,
      },
    ],
    skipDuplicates: true,
  });
}

async function closeFor(tx: Tx, event: MeterEvent): Promise<void> {
  if (event.to === 'lost') {
    // The node's heartbeat counts only if it is from before the loss (a node may come back later).
    await tx.$executeRaw`
      UPDATE "UsageSlice" s
      SET "endAt" = GREATEST(s."startAt", LEAST(${event.at}::timestamptz, GREATEST(s."heartbeatAt",
            COALESCE((SELECT n."heartbeatAt" FROM "Node" n
                      WHERE n.id = s."nodeId" AND n."heartbeatAt" <= ${event.at}::timestamptz), s."heartbeatAt")))),
          "endReason" = 'lost'
      WHERE s."containerId" = ${event.containerId}::uuid AND s."endAt" IS NULL`;
    return;
  }
  await tx.$executeRaw`
    UPDATE "UsageSlice" s
    SET "endAt" = GREATEST(s."startAt", ${event.at}::timestamptz), "heartbeatAt" = GREATEST(s."heartbeatAt", ${event.at}::timestamptz),
        "endReason" = ${event.to}
    WHERE s."containerId" = ${event.containerId}::uuid AND s."endAt" IS NULL`;
}
